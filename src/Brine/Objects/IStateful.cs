using Brine.Model;

namespace Brine.Objects;

/// <summary>
/// Full control of what an object saves, like Python's <c>__getstate__</c>/<c>__setstate__</c>.
/// <see cref="GetState"/> must return a map; it is written as the object's map (tagged with the type name).
/// When reading, the object is created with its parameterless constructor (any visibility) or, lacking one,
/// without running a constructor (as Python's <c>object.__new__</c>), and <see cref="SetState"/> receives the map.
/// </summary>
/// <remarks>
/// The state is a self-contained <see cref="Node"/> tree: it may share nodes within itself, but an alias from
/// inside it to an object outside it is an error.
/// </remarks>
public interface IStateful
{
    Node GetState();
    void SetState(Node state);
}
