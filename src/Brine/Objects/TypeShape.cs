using System.Collections;
using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Numerics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Serialization;
using System.Text;
using Brine.Model;

namespace Brine.Objects;

/// <summary>How a CLR type travels through the token model.</summary>
enum ShapeKind
{
    /// <summary>A single token (numbers, strings, dates, Guid …).</summary>
    Scalar,
    Enum,
    /// <summary>A <see cref="Node"/>: written and read as the tree it is.</summary>
    Tree,
    /// <summary>T[] other than byte[].</summary>
    Array,
    List,
    Set,
    Dictionary,
    Tuple,
    /// <summary>Implements <see cref="IStateful"/>.</summary>
    Stateful,
    /// <summary>A class, record or struct written member by member.</summary>
    Object,
}

/// <summary>One member of an object type, with compiled accessors.</summary>
sealed class MemberShape
{
    public required string Name { get; init; }
    public required string ClrName { get; init; }
    public required Type Type { get; init; }
    public required Func<object, object?> Get { get; init; }
    /// <summary>Null when the member is only set through the constructor.</summary>
    public Action<object, object?>? Set { get; init; }
    /// <summary>Index of the constructor parameter that sets this member, or -1.</summary>
    public int CtorIndex { get; set; } = -1;

    internal MemberInfo? Info { get; init; }
    internal Type? Owner { get; init; }
    Delegate? _typedGet, _typedSet;

    /// <summary>
    /// A getter that returns the member as its own type <typeparamref name="T"/> (no box per call, for the direct pickle
    /// paths); compiled on first use. Null when <typeparamref name="T"/> is not the member's type.
    /// </summary>
    public Func<object, T>? TypedGet<T>()
    {
        if (Type != typeof(T) || Info is null || Owner is null) return null;
        if (_typedGet is Func<object, T> g) return g;
        var o = Expression.Parameter(typeof(object));
        Expression target = Owner.IsValueType ? Expression.Unbox(o, Owner) : Expression.Convert(o, Owner);
        Expression access = Info is PropertyInfo p ? Expression.Property(target, p) : Expression.Field(target, (FieldInfo)Info);
        var f = Expression.Lambda<Func<object, T>>(access, o).Compile();
        _typedGet = f;
        return f;
    }

    /// <summary>
    /// The member read from <paramref name="target"/> (an expression of the owner's type), for readers compiled over
    /// several members at once; null when the member has no field or property behind it.
    /// </summary>
    internal Expression? Access(Expression target) =>
        Info is PropertyInfo p ? Expression.Property(target, p) : Info is FieldInfo f ? Expression.Field(target, f) : null;

    /// <summary>A setter taking <typeparamref name="T"/> unboxed, as <see cref="TypedGet{T}"/>. Null when the member is not a
    /// writable <typeparamref name="T"/> of a class (readonly fields and struct members keep the boxing <see cref="Set"/>).</summary>
    public Action<object, T>? TypedSet<T>()
    {
        if (Type != typeof(T) || Set is null || Info is null || Owner is null || Owner.IsValueType || Info is FieldInfo { IsInitOnly: true }) return null;
        if (_typedSet is Action<object, T> s) return s;
        var o = Expression.Parameter(typeof(object));
        var v = Expression.Parameter(typeof(T));
        Expression target = Expression.Convert(o, Owner);
        Expression access = Info is PropertyInfo p ? Expression.Property(target, p) : Expression.Field(target, (FieldInfo)Info);
        var f = Expression.Lambda<Action<object, T>>(Expression.Assign(access, v), o, v).Compile();
        _typedSet = f;
        return f;
    }
}

/// <summary>
/// Everything Brine needs to know about a type, computed once per (type, naming) and cached, so that writing
/// and reading use compiled delegates rather than reflection per object.
/// </summary>
/// <remarks>Accessors are compiled expression trees; under NativeAOT they run interpreted. A source generator would remove that cost later.</remarks>
sealed class TypeShape
{
    static readonly ConcurrentDictionary<(Type, MemberNaming), TypeShape> Cache = new();

    public Type Type { get; }
    public ShapeKind Kind { get; private set; }
    public Type? ElementType { get; private set; }
    public Type? KeyType { get; private set; }
    public Type? ValueType { get; private set; }
    public Type[] TupleTypes { get; private set; } = Type.EmptyTypes;
    public MemberShape[] Members { get; private set; } = [];
    readonly Dictionary<string, MemberShape> _byName = new(StringComparer.Ordinal);

    /// <summary>Creates an empty instance (parameterless constructor, or none run for stateful types). Null when a constructor with parameters must be used.</summary>
    public Func<object>? Create { get; private set; }
    /// <summary>The constructor taking member values, for positional records and immutable types.</summary>
    public Func<object?[], object>? CreateWithArgs { get; private set; }
    public object?[] CtorDefaults { get; private set; } = [];
    public string[] CtorParamNames { get; private set; } = [];
    /// <summary>For sets and custom collections: adds one item.</summary>
    public Action<object, object?>? AddItem { get; private set; }

    public Action<object>[] OnSerializing { get; private set; } = [];
    public Action<object>[] OnSerialized { get; private set; } = [];
    public Action<object>[] OnDeserializing { get; private set; } = [];
    public Action<object>[] OnDeserialized { get; private set; } = [];

    public bool IsConstructorOnly => Create is null && CreateWithArgs is not null;

    TypeShape(Type type) { Type = type; }

    public static TypeShape Of(Type type, MemberNaming naming) => Cache.GetOrAdd((type, naming), static k => Build(k.Item1, k.Item2));

    public MemberShape? Find(string name) => _byName.GetValueOrDefault(name);

    public static bool IsScalarType(Type t) =>
        t.IsPrimitive || t == typeof(string) || t == typeof(decimal) || t == typeof(BigInteger) || t == typeof(byte[]) ||
        t == typeof(DateTime) || t == typeof(DateTimeOffset) || t == typeof(DateOnly) || t == typeof(TimeOnly) ||
        t == typeof(TimeSpan) || t == typeof(Guid) || t == typeof(Timestamp) || t == typeof(DecimalNumber);

    static TypeShape Build(Type type, MemberNaming naming)
    {
        var s = new TypeShape(type);
        if (IsScalarType(type)) { s.Kind = ShapeKind.Scalar; return s; }
        if (type.IsEnum) { s.Kind = ShapeKind.Enum; return s; }
        if (type == typeof(Node)) { s.Kind = ShapeKind.Tree; return s; }
        if (type.IsArray)
        {
            if (type.GetArrayRank() != 1) throw new NotSupportedException($"multi-dimensional array {type} is not supported; use a jagged array");
            s.Kind = ShapeKind.Array; s.ElementType = type.GetElementType(); return s;
        }
        if (typeof(IStateful).IsAssignableFrom(type))
        {
            s.Kind = ShapeKind.Stateful;
            var ctor = type.GetConstructor(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, Type.EmptyTypes);
            s.Create = ctor is not null ? CompileNew(ctor) : () => RuntimeHelpers.GetUninitializedObject(type);
            return s;
        }
        if (IsTuple(type))
        {
            s.Kind = ShapeKind.Tuple;
            s.TupleTypes = type.GetGenericArguments();
            if (s.TupleTypes.Length > 7) throw new NotSupportedException($"tuples of more than 7 items are not supported ({type})");
            s.CreateWithArgs = CompileCtor(type.GetConstructor(s.TupleTypes)!);
            return s;
        }
        if (FindGeneric(type, typeof(IDictionary<,>)) is { } dict && typeof(IDictionary).IsAssignableFrom(type) || type.IsInterface && IsDictionaryInterface(type))
        {
            var args = (FindGeneric(type, typeof(IDictionary<,>)) ?? FindGeneric(type, typeof(IReadOnlyDictionary<,>)))!.GetGenericArguments();
            s.Kind = ShapeKind.Dictionary; s.KeyType = args[0]; s.ValueType = args[1];
            var concrete = type.IsInterface ? typeof(Dictionary<,>).MakeGenericType(args) : type;
            s.Create = CompileNew(concrete.GetConstructor(Type.EmptyTypes) ?? throw new NotSupportedException($"{type} has no parameterless constructor"));
            return s;
        }
        var set = FindGeneric(type, typeof(ISet<>));
        if (set is not null || type.IsInterface && type.IsGenericType && type.GetGenericTypeDefinition() is var gd && (gd == typeof(ISet<>) || gd == typeof(IReadOnlySet<>)))
        {
            var elem = (set ?? type).GetGenericArguments()[0];
            s.Kind = ShapeKind.Set; s.ElementType = elem;
            var concrete = type.IsInterface ? typeof(HashSet<>).MakeGenericType(elem) : type;
            s.Create = CompileNew(concrete.GetConstructor(Type.EmptyTypes) ?? throw new NotSupportedException($"{type} has no parameterless constructor"));
            s.AddItem = CompileAdd(typeof(ICollection<>).MakeGenericType(elem), elem);
            return s;
        }
        if (type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type))
        {
            var elem = FindGeneric(type, typeof(IEnumerable<>))?.GetGenericArguments()[0] ?? typeof(object);
            s.Kind = ShapeKind.List; s.ElementType = elem;
            if (type.IsInterface)
            {
                s.Create = CompileNew(typeof(List<>).MakeGenericType(elem).GetConstructor(Type.EmptyTypes)!);
            }
            else if (type.GetConstructor(Type.EmptyTypes) is { } c)
            {
                s.Create = CompileNew(c);
                if (!typeof(IList).IsAssignableFrom(type) && FindGeneric(type, typeof(ICollection<>)) is { } coll)
                    s.AddItem = CompileAdd(coll, elem);
            }
            return s;
        }
        if (type.IsAbstract || type.IsInterface || type == typeof(object)) { s.Kind = ShapeKind.Object; return s; }
        s.Kind = ShapeKind.Object;
        BuildMembers(s, type, naming);
        return s;
    }

    static bool IsDictionaryInterface(Type t) => t.IsGenericType && t.GetGenericTypeDefinition() is var d && (d == typeof(IDictionary<,>) || d == typeof(IReadOnlyDictionary<,>));

    static bool IsTuple(Type t)
    {
        if (!t.IsGenericType) return false;
        var d = t.GetGenericTypeDefinition();
        return d.FullName is { } n && (n.StartsWith("System.Tuple`", StringComparison.Ordinal) || n.StartsWith("System.ValueTuple`", StringComparison.Ordinal));
    }

    static Type? FindGeneric(Type t, Type definition)
    {
        if (t.IsGenericType && t.GetGenericTypeDefinition() == definition) return t;
        foreach (var i in t.GetInterfaces())
            if (i.IsGenericType && i.GetGenericTypeDefinition() == definition) return i;
        return null;
    }

    static void BuildMembers(TypeShape s, Type type, MemberNaming naming)
    {
        bool contract = type.GetCustomAttribute<DataContractAttribute>() is not null;
        var chain = new List<Type>();
        for (var t = type; t is not null && t != typeof(object) && t != typeof(ValueType); t = t.BaseType) chain.Add(t);
        chain.Reverse();

        // Constructor: a parameterless one keeps cycles possible; else the widest one whose parameters all name members.
        const BindingFlags inst = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        var publicCtors = type.GetConstructors(BindingFlags.Instance | BindingFlags.Public);
        var parameterless = type.GetConstructor(BindingFlags.Instance | BindingFlags.Public, Type.EmptyTypes);
        var allNames = new HashSet<string>(chain.SelectMany(t => t.GetMembers(inst)).Where(m => m is PropertyInfo or FieldInfo).Select(m => m.Name), StringComparer.OrdinalIgnoreCase);
        ConstructorInfo? withArgs = null;
        if (parameterless is null && !type.IsValueType)
            withArgs = publicCtors.Where(c => c.GetParameters().Length > 0 && c.GetParameters().All(p => p.Name is not null && allNames.Contains(p.Name)))
                .OrderByDescending(c => c.GetParameters().Length).FirstOrDefault();
        var ctorParams = withArgs?.GetParameters() ?? [];

        var members = new List<(MemberShape m, int order, int index)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int index = 0;
        foreach (var t in chain)
        {
            foreach (var mi in t.GetMembers(inst).OrderBy(m => m.MetadataToken))
            {
                if (mi is not (PropertyInfo or FieldInfo)) continue;
                if (mi is FieldInfo f0 && f0.Name.Contains('<')) continue; // compiler-generated backing fields
                if (mi is PropertyInfo p0 && (p0.GetIndexParameters().Length > 0 || p0.GetMethod is null)) continue;
                if (mi.IsDefined(typeof(IgnoreDataMemberAttribute)) || mi.IsDefined(typeof(NonSerializedAttribute))) continue;
                var dm = mi.GetCustomAttribute<DataMemberAttribute>();
                int ctorIndex = Array.FindIndex(ctorParams, p => string.Equals(p.Name, mi.Name, StringComparison.OrdinalIgnoreCase));
                if (contract)
                {
                    if (dm is null) continue;
                }
                else
                {
                    bool isPublic = mi switch { PropertyInfo p => p.GetMethod!.IsPublic, FieldInfo f => f.IsPublic, _ => false };
                    if (!isPublic || (mi is PropertyInfo { GetMethod.IsStatic: true })) continue;
                    bool writable = mi switch
                    {
                        PropertyInfo p => p.SetMethod is { IsPublic: true },
                        FieldInfo f => !f.IsInitOnly && !f.IsLiteral,
                        _ => false,
                    };
                    if (!writable && ctorIndex < 0) continue;
                }
                if (!seen.Add(mi.Name)) continue;
                var memberType = mi is PropertyInfo pi ? pi.PropertyType : ((FieldInfo)mi).FieldType;
                var name = dm?.Name ?? (naming == MemberNaming.SnakeCase ? SnakeCase(mi.Name) : mi.Name);
                var shape = new MemberShape
                {
                    Name = name, ClrName = mi.Name, Type = memberType, Info = mi, Owner = type,
                    Get = CompileGet(type, mi),
                    Set = CompileSet(type, mi),
                    CtorIndex = ctorIndex,
                };
                members.Add((shape, dm is { Order: >= 0 } ? dm.Order : int.MaxValue, index++));
            }
        }
        s.Members = members.OrderBy(m => m.order).ThenBy(m => m.index).Select(m => m.m).ToArray();
        foreach (var m in s.Members)
        {
            s._byName.TryAdd(m.Name, m);
            s._byName.TryAdd(m.ClrName, m);
        }

        if (withArgs is not null)
        {
            s.CreateWithArgs = CompileCtor(withArgs);
            s.CtorDefaults = ctorParams.Select(p => p.HasDefaultValue && p.DefaultValue is not DBNull ? p.DefaultValue : DefaultOf(p.ParameterType)).ToArray();
            s.CtorParamNames = ctorParams.Select(p => p.Name!).ToArray();
        }
        else
        {
            foreach (var m in s.Members) m.CtorIndex = -1;
            var ctor = parameterless ?? type.GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic, Type.EmptyTypes);
            if (ctor is not null) s.Create = CompileNew(ctor);
            else if (type.IsValueType) s.Create = () => Activator.CreateInstance(type)!;
        }

        s.OnSerializing = Callbacks(chain, typeof(OnSerializingAttribute));
        s.OnSerialized = Callbacks(chain, typeof(OnSerializedAttribute));
        s.OnDeserializing = Callbacks(chain, typeof(OnDeserializingAttribute));
        s.OnDeserialized = Callbacks(chain, typeof(OnDeserializedAttribute));
    }

    public static object? DefaultOf(Type t) => t.IsValueType && Nullable.GetUnderlyingType(t) is null ? RuntimeHelpers.GetUninitializedObject(t) : null;

    /// <summary><c>RegisteredAt</c> → <c>registered_at</c>, <c>HTTPServer</c> → <c>http_server</c>.</summary>
    public static string SnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                bool boundary = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1])));
                if (boundary && sb.Length > 0 && sb[^1] != '_') sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    static Action<object>[] Callbacks(List<Type> chain, Type attribute)
    {
        var list = new List<Action<object>>();
        foreach (var t in chain)
            foreach (var m in t.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (!m.IsDefined(attribute)) continue;
                var ps = m.GetParameters();
                if (ps.Length == 1 && ps[0].ParameterType == typeof(StreamingContext))
                {
                    var method = m;
                    list.Add(CompileCallback(t, method));
                }
                else throw new NotSupportedException($"{t}.{m.Name}: a serialization callback must take one StreamingContext parameter");
            }
        return list.ToArray();
    }

    static Action<object> CompileCallback(Type t, MethodInfo m)
    {
        var o = Expression.Parameter(typeof(object));
        Expression target = t.IsValueType ? Expression.Unbox(o, t) : Expression.Convert(o, t);
        var call = Expression.Call(target, m, Expression.Default(typeof(StreamingContext)));
        return Expression.Lambda<Action<object>>(call, o).Compile();
    }

    static Func<object> CompileNew(ConstructorInfo c) =>
        Expression.Lambda<Func<object>>(Expression.Convert(Expression.New(c), typeof(object))).Compile();

    static Func<object?[], object> CompileCtor(ConstructorInfo c)
    {
        var args = Expression.Parameter(typeof(object?[]));
        var ps = c.GetParameters();
        var argExprs = ps.Select((p, i) => (Expression)Expression.Convert(Expression.ArrayIndex(args, Expression.Constant(i)), p.ParameterType));
        return Expression.Lambda<Func<object?[], object>>(Expression.Convert(Expression.New(c, argExprs), typeof(object)), args).Compile();
    }

    static Action<object, object?> CompileAdd(Type collectionInterface, Type elem)
    {
        var o = Expression.Parameter(typeof(object));
        var v = Expression.Parameter(typeof(object));
        var add = collectionInterface.GetMethod("Add", [elem])!;
        return Expression.Lambda<Action<object, object?>>(Expression.Call(Expression.Convert(o, collectionInterface), add, Expression.Convert(v, elem)), o, v).Compile();
    }

    static Func<object, object?> CompileGet(Type owner, MemberInfo m)
    {
        var o = Expression.Parameter(typeof(object));
        Expression target = Expression.Convert(o, owner);
        Expression access = m is PropertyInfo p ? Expression.Property(target, p) : Expression.Field(target, (FieldInfo)m);
        return Expression.Lambda<Func<object, object?>>(Expression.Convert(access, typeof(object)), o).Compile();
    }

    static Action<object, object?>? CompileSet(Type owner, MemberInfo m)
    {
        if (m is PropertyInfo { SetMethod: null }) return null;
        if (m is FieldInfo { IsInitOnly: true } rf)
            return (obj, value) => rf.SetValue(obj, value); // readonly fields: expression trees refuse to assign them
        var o = Expression.Parameter(typeof(object));
        var v = Expression.Parameter(typeof(object));
        // Unbox gives the boxed struct's storage, so assignments mutate the box the reader holds.
        Expression target = owner.IsValueType ? Expression.Unbox(o, owner) : Expression.Convert(o, owner);
        Expression access = m is PropertyInfo p ? Expression.Property(target, p) : Expression.Field(target, (FieldInfo)m);
        var assign = Expression.Assign(access, Expression.Convert(v, access.Type));
        return Expression.Lambda<Action<object, object?>>(assign, o, v).Compile();
    }
}
