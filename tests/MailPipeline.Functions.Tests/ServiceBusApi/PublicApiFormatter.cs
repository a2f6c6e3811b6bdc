using System.Reflection;
using System.Text;

namespace MailPipeline.Functions.Tests.ServiceBusApi;

/// <summary>
/// Renders the public surface of a type the way TestData/servicebus/*.api.txt is written: one "type" line, then its
/// base interfaces, the Functions attributes on the type (an [InputConverter] shows the attributes of its converter,
/// which decide deferred binding in functions.metadata), and one line per public or protected member, sorted.
/// Nullable reference annotations are shown at the top level ("System.String?"); optional parameters as "= default".
/// </summary>
internal static class PublicApiFormatter
{
    private const string FunctionsNamespace = "Microsoft.Azure.Functions.Worker";

    private static readonly NullabilityInfoContext Nullability = new();

    public static IReadOnlyList<string> Format(Type type)
    {
        var lines = new List<string> { "type " + FormatTypeHeader(type) };

        lines.AddRange(type.GetInterfaces()
            .Where(i => i.IsPublic)
            .Select(i => "  implements " + TypeName(i))
            .Order(StringComparer.Ordinal));

        lines.AddRange(type.GetCustomAttributesData()
            .Where(a => IsFunctionsAttribute(a.AttributeType))
            .Select(a => "  attribute " + FormatAttribute(a, expandConverter: true))
            .Order(StringComparer.Ordinal));

        const BindingFlags declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var members = new List<string>();
        members.AddRange(type.GetConstructors(declared).Where(IsVisible).Select(FormatConstructor));
        members.AddRange(type.GetMethods(declared).Where(m => IsVisible(m) && !m.IsSpecialName).Select(FormatMethod));
        members.AddRange(type.GetProperties(declared).Where(IsVisible).Select(FormatProperty));
        members.AddRange(type.GetFields(declared).Where(f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly)
            .Select(f => $"{Accessibility(f.IsPublic, f.IsFamily || f.IsFamilyOrAssembly)} {(f.IsStatic ? "static " : "")}{NullableTypeName(f.FieldType, Nullability.Create(f))} {f.Name}"));
        members.AddRange(type.GetEvents(declared).Where(e => e.AddMethod is { } add && IsVisible(add))
            .Select(e => $"{Accessibility(e.AddMethod!.IsPublic, true)} event {TypeName(e.EventHandlerType!)} {e.Name}"));
        lines.AddRange(members.Order(StringComparer.Ordinal).Select(m => "  member " + m));
        return lines;
    }

    private static string FormatTypeHeader(Type type)
    {
        var kind = type.IsInterface ? "interface"
            : type.IsEnum ? "enum"
            : type.IsValueType ? "struct"
            : type.IsAbstract && type.IsSealed ? "static class"
            : type.IsAbstract ? "abstract class"
            : type.IsSealed ? "sealed class"
            : "class";
        var header = $"{(type.IsPublic ? "public" : "internal")} {kind} {TypeName(type)}";
        if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(ValueType) && baseType != typeof(Enum))
        {
            header += " : " + TypeName(baseType);
        }

        return header;
    }

    private static bool IsFunctionsAttribute(Type attributeType) =>
        attributeType.Namespace is { } ns && (ns == FunctionsNamespace || ns.StartsWith(FunctionsNamespace + ".", StringComparison.Ordinal));

    private static string FormatAttribute(CustomAttributeData attribute, bool expandConverter)
    {
        var name = TypeName(attribute.AttributeType);
        if (expandConverter && attribute.AttributeType.Name == "InputConverterAttribute"
            && attribute.ConstructorArguments is [{ Value: Type converter }])
        {
            var converterAttributes = converter.GetCustomAttributesData()
                .Where(a => IsFunctionsAttribute(a.AttributeType))
                .Select(a => FormatAttribute(a, expandConverter: false))
                .Order(StringComparer.Ordinal);
            return $"[{name}(converter: {string.Join(" ", converterAttributes)})]";
        }

        var arguments = attribute.ConstructorArguments.Select(FormatArgument)
            .Concat(attribute.NamedArguments.Select(n => $"{n.MemberName} = {FormatArgument(n.TypedValue)}"))
            .ToList();
        return arguments.Count == 0 ? $"[{name}]" : $"[{name}({string.Join(", ", arguments)})]";
    }

    private static string FormatArgument(CustomAttributeTypedArgument argument) => argument.Value switch
    {
        null => "null",
        Type t => TypeName(t),
        bool b => b ? "true" : "false",
        string s => "\"" + s + "\"",
        _ when argument.ArgumentType.IsEnum => EnumNames(argument.ArgumentType, argument.Value),
        _ => Convert.ToString(argument.Value, System.Globalization.CultureInfo.InvariantCulture)!,
    };

    // Every name with that value ("Allow|Default"): metadata keeps the number, not which alias the source wrote.
    private static string EnumNames(Type enumType, object value)
    {
        var number = Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
        var names = Enum.GetNames(enumType)
            .Where(n => Convert.ToInt64(Enum.Parse(enumType, n), System.Globalization.CultureInfo.InvariantCulture) == number)
            .Order(StringComparer.Ordinal)
            .ToList();
        return names.Count == 0 ? number.ToString(System.Globalization.CultureInfo.InvariantCulture) : string.Join("|", names);
    }

    private static bool IsVisible(MethodBase method) => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly;

    private static bool IsVisible(PropertyInfo property) =>
        (property.GetMethod is { } get && IsVisible(get)) || (property.SetMethod is { } set && IsVisible(set));

    private static string Accessibility(bool isPublic, bool isProtected) => isPublic ? "public" : isProtected ? "protected" : "private";

    private static string Accessibility(MethodBase method) => Accessibility(method.IsPublic, method.IsFamily || method.IsFamilyOrAssembly);

    private static string Modifiers(MethodInfo method)
    {
        if (method.IsStatic)
        {
            return "static ";
        }

        if (method.IsAbstract)
        {
            return "abstract ";
        }

        if (method.IsVirtual && !method.IsFinal)
        {
            return method.GetBaseDefinition() != method ? "override " : "virtual ";
        }

        return method.IsVirtual && method.GetBaseDefinition() != method ? "sealed override " : "";
    }

    private static string FormatConstructor(ConstructorInfo constructor) =>
        $"{Accessibility(constructor)} .ctor({FormatParameters(constructor.GetParameters())})";

    private static string FormatMethod(MethodInfo method)
    {
        var returnType = NullableTypeName(method.ReturnType, Nullability.Create(method.ReturnParameter));
        return $"{Accessibility(method)} {Modifiers(method)}{returnType} {method.Name}({FormatParameters(method.GetParameters())})";
    }

    private static string FormatProperty(PropertyInfo property)
    {
        var accessor = property.GetMethod ?? property.SetMethod!;
        var attributes = property.GetCustomAttributesData()
            .Where(a => IsFunctionsAttribute(a.AttributeType))
            .Select(a => FormatAttribute(a, expandConverter: false) + " ")
            .Order(StringComparer.Ordinal);
        var builder = new StringBuilder();
        builder.Append(string.Concat(attributes));
        builder.Append(Accessibility(accessor)).Append(' ').Append(Modifiers(accessor));
        builder.Append(NullableTypeName(property.PropertyType, Nullability.Create(property))).Append(' ').Append(property.Name).Append(" {");
        if (property.GetMethod is { } get && IsVisible(get))
        {
            builder.Append(AccessorPrefix(get, accessor)).Append(" get;");
        }

        if (property.SetMethod is { } set && IsVisible(set))
        {
            builder.Append(AccessorPrefix(set, accessor)).Append(" set;");
        }

        return builder.Append(" }").ToString();
    }

    private static string AccessorPrefix(MethodInfo accessor, MethodInfo propertyAccessor) =>
        Accessibility(accessor) == Accessibility(propertyAccessor) ? "" : " " + Accessibility(accessor);

    private static string FormatParameters(ParameterInfo[] parameters) => string.Join(", ", parameters.Select(p =>
    {
        var text = $"{NullableTypeName(p.ParameterType, Nullability.Create(p))} {p.Name}";
        return p.IsOptional ? text + " = default" : text;
    }));

    private static string NullableTypeName(Type type, NullabilityInfo nullability) =>
        TypeName(type) + (!type.IsValueType && nullability.ReadState == NullabilityState.Nullable ? "?" : "");

    private static string TypeName(Type type)
    {
        if (type.IsArray)
        {
            return TypeName(type.GetElementType()!) + "[]";
        }

        if (type.IsByRef)
        {
            return "ref " + TypeName(type.GetElementType()!);
        }

        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        var name = type.IsNested ? TypeName(type.DeclaringType!) + "." + type.Name : type.Namespace + "." + type.Name;
        if (!type.IsGenericType)
        {
            return name;
        }

        var tick = name.IndexOf('`', StringComparison.Ordinal);
        return $"{name[..tick]}<{string.Join(", ", type.GetGenericArguments().Select(TypeName))}>";
    }
}
