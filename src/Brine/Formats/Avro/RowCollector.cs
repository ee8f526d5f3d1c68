using Brine.Model;

namespace Brine.Formats.Avro;

/// <summary>
/// A tree writer for row-oriented writers that need a whole record before encoding it (Avro resolves fields by name
/// and picks union branches): a top-level list is the list of rows, each item one value; aliases are refused, since
/// rows hold no shared references.
/// </summary>
internal abstract class RowCollector : TreeWriter
{
    protected override bool TopListHoldsValues => true;
    protected override bool AcceptsAliases => false;
}
