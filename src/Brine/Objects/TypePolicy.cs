using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Reflection;

namespace Brine.Objects;

/// <summary>
/// Which CLR types reading may create from a type tag, and the names types are written under.
/// <see cref="Default"/> allows primitives and collections only: any other type tag is refused.
/// Policies are immutable: <c>TypePolicy.Default.Allow&lt;User&gt;("models.User").AllowNamespace("MyApp.Models")</c>.
/// </summary>
/// <remarks>
/// A type the caller asks for by its static type (<c>Read&lt;User&gt;</c>, or a member declared as <c>Address</c>) is
/// created without a registration, when the data's tag is absent or is that type's own name: the caller chose it.
/// A tag decides the type only where the declared type leaves it open (<c>object</c>, an interface, a base class);
/// then the tag must name a registered type or a type in an allowed namespace.
/// </remarks>
public sealed class TypePolicy
{
    public static TypePolicy Default { get; } = new(ImmutableDictionary<string, Type>.Empty, ImmutableDictionary<Type, string>.Empty, ImmutableArray<string>.Empty);

    readonly ImmutableDictionary<string, Type> _byName;
    readonly ImmutableDictionary<Type, string> _nameOf;
    readonly ImmutableArray<string> _namespaces;
    readonly ConcurrentDictionary<string, Type?> _resolved = new();

    TypePolicy(ImmutableDictionary<string, Type> byName, ImmutableDictionary<Type, string> nameOf, ImmutableArray<string> namespaces)
    { _byName = byName; _nameOf = nameOf; _namespaces = namespaces; }

    /// <summary>Allows <typeparamref name="T"/>, written and read under <paramref name="name"/> (a Python class such as <c>models.User</c>) or its CLR full name.</summary>
    public TypePolicy Allow<T>(string? name = null) => Allow(typeof(T), name);

    public TypePolicy Allow(Type type, string? name = null)
    {
        var byName = _byName.SetItem(FullName(type), type);
        var nameOf = _nameOf;
        if (name is not null) { byName = byName.SetItem(name, type); nameOf = nameOf.SetItem(type, name); }
        return new TypePolicy(byName, nameOf, _namespaces);
    }

    /// <summary>Allows every type of namespace <paramref name="ns"/> and its sub-namespaces, found by CLR full name in loaded assemblies.</summary>
    public TypePolicy AllowNamespace(string ns) => new(_byName, _nameOf, _namespaces.Add(ns));

    /// <summary>The tag <paramref name="type"/> is written under: its mapped name, else its CLR full name.</summary>
    public string NameOf(Type type) => _nameOf.TryGetValue(type, out var n) ? n : FullName(type);

    /// <summary>The type a tag names, or null when the policy does not allow it.</summary>
    public Type? Resolve(string tag)
    {
        if (_byName.TryGetValue(tag, out var t)) return t;
        if (_namespaces.IsEmpty) return null;
        return _resolved.GetOrAdd(tag, FindInNamespaces);
    }

    /// <summary>Whether a type is allowed by registration or namespace.</summary>
    public bool IsAllowed(Type type) => _nameOf.ContainsKey(type) || _byName.ContainsKey(FullName(type)) || InAllowedNamespace(type);

    bool InAllowedNamespace(Type type)
    {
        var ns = type.Namespace ?? "";
        foreach (var a in _namespaces)
            if (ns == a || ns.StartsWith(a + ".", StringComparison.Ordinal)) return true;
        return false;
    }

    Type? FindInNamespaces(string tag)
    {
        foreach (var asm in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (asm.IsDynamic) continue;
            Type? t;
            try { t = asm.GetType(tag, throwOnError: false); }
            catch (Exception e) when (e is ArgumentException or FileLoadException or BadImageFormatException) { continue; }
            if (t is not null && !t.IsGenericTypeDefinition && !t.IsAbstract && !t.IsInterface && InAllowedNamespace(t)) return t;
        }
        return null;
    }

    static string FullName(Type t) => t.FullName ?? t.Name;
}
