using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Architecture.Tests;

/// <summary>One use of a type by another: who, where (the member or "base type"), and what.</summary>
/// <param name="From">The using type's full name (a nested type as its outermost type: lambdas and state machines belong to it).</param>
/// <param name="FromNamespace">The using type's namespace.</param>
/// <param name="Member">Where the use is: base type, interface, attribute, field, property, event, or a method's signature or body.</param>
/// <param name="To">The used type's full name (outermost type).</param>
/// <param name="ToNamespace">The used type's namespace.</param>
public sealed record Dependency(string From, string FromNamespace, string Member, string To, string ToNamespace)
{
    public override string ToString() => $"{From}.{Member} uses {To}";
}

/// <summary>
/// Reads every type an assembly's types use, with Mono.Cecil: base types, interfaces, attributes
/// (and types passed to them), fields, properties, events, method signatures and generic
/// constraints, and method bodies (local variables and every type, method or field an instruction
/// names, with their declaring types, signatures and generic arguments). Reading IL, not source,
/// means a `using` that is not needed adds nothing and a fully qualified name cannot hide a use.
/// </summary>
public static class TypeDependencies
{
    public static IReadOnlyList<Dependency> Read(string assemblyPath)
    {
        using var module = ModuleDefinition.ReadModule(assemblyPath, new ReaderParameters { ReadSymbols = false });
        var found = new HashSet<Dependency>();
        foreach (var type in module.GetTypes())
        {
            var (from, fromNamespace) = NameOf(type);
            if (from.StartsWith('<'))
            {
                // <Module>, <PrivateImplementationDetails>: the compiler's, not the code's.
                continue;
            }

            void Use(TypeReference? used, string member)
            {
                foreach (var t in Unwrap(used))
                {
                    var (to, toNamespace) = NameOf(t);
                    if (to != from)
                    {
                        found.Add(new Dependency(from, fromNamespace, member, to, toNamespace));
                    }
                }
            }

            string Local(string member) => type.IsNested ? $"{type.Name}.{member}" : member;

            Use(type.BaseType, Local("base type"));
            foreach (var implemented in type.Interfaces)
            {
                Use(implemented.InterfaceType, Local("interface"));
            }

            Attributes(type, Local("attribute"), Use);
            GenericConstraints(type, Local("generic constraint"), Use);
            foreach (var field in type.Fields)
            {
                Use(field.FieldType, Local(field.Name));
                Attributes(field, Local(field.Name), Use);
            }

            foreach (var property in type.Properties)
            {
                Use(property.PropertyType, Local(property.Name));
                Attributes(property, Local(property.Name), Use);
            }

            foreach (var e in type.Events)
            {
                Use(e.EventType, Local(e.Name));
            }

            foreach (var method in type.Methods)
            {
                Method(method, Local(method.Name + "()"), Use);
            }
        }

        return [.. found];
    }

    private static void Method(MethodDefinition method, string member, Action<TypeReference?, string> use)
    {
        use(method.ReturnType, member);
        foreach (var parameter in method.Parameters)
        {
            use(parameter.ParameterType, member);
            Attributes(parameter, member, use);
        }

        Attributes(method, member, use);
        GenericConstraints(method, member, use);
        if (!method.HasBody)
        {
            return;
        }

        foreach (var variable in method.Body.Variables)
        {
            use(variable.VariableType, member);
        }

        foreach (var handler in method.Body.ExceptionHandlers)
        {
            use(handler.CatchType, member);
        }

        foreach (var instruction in method.Body.Instructions)
        {
            switch (instruction.Operand)
            {
                case TypeReference t:
                    use(t, member);
                    break;
                case MethodReference m:
                    MethodUse(m, member, use);
                    break;
                case FieldReference f:
                    use(f.DeclaringType, member);
                    use(f.FieldType, member);
                    break;
                case CallSite site:
                    use(site.ReturnType, member);
                    foreach (var parameter in site.Parameters)
                    {
                        use(parameter.ParameterType, member);
                    }

                    break;
            }
        }
    }

    private static void MethodUse(MethodReference method, string member, Action<TypeReference?, string> use)
    {
        use(method.DeclaringType, member);
        use(method.ReturnType, member);
        foreach (var parameter in method.Parameters)
        {
            use(parameter.ParameterType, member);
        }

        if (method is GenericInstanceMethod generic)
        {
            foreach (var argument in generic.GenericArguments)
            {
                use(argument, member);
            }
        }
    }

    private static void Attributes(ICustomAttributeProvider provider, string member, Action<TypeReference?, string> use)
    {
        foreach (var attribute in provider.CustomAttributes)
        {
            use(attribute.AttributeType, member);
            foreach (var argument in attribute.ConstructorArguments)
            {
                use(argument.Value as TypeReference, member);
            }

            foreach (var named in attribute.Properties.Concat(attribute.Fields))
            {
                use(named.Argument.Value as TypeReference, member);
            }
        }
    }

    private static void GenericConstraints(IGenericParameterProvider provider, string member, Action<TypeReference?, string> use)
    {
        foreach (var parameter in provider.GenericParameters)
        {
            foreach (var constraint in parameter.Constraints)
            {
                use(constraint.ConstraintType, member);
            }
        }
    }

    /// <summary>The named types in a type reference: element types of arrays, pointers and by-refs, and every generic argument.</summary>
    private static IEnumerable<TypeReference> Unwrap(TypeReference? type)
    {
        switch (type)
        {
            case null or GenericParameter:
                yield break;
            case GenericInstanceType generic:
                foreach (var t in Unwrap(generic.ElementType))
                {
                    yield return t;
                }

                foreach (var argument in generic.GenericArguments)
                {
                    foreach (var t in Unwrap(argument))
                    {
                        yield return t;
                    }
                }

                break;
            case FunctionPointerType pointer:
                foreach (var t in Unwrap(pointer.ReturnType).Concat(pointer.Parameters.SelectMany(p => Unwrap(p.ParameterType))))
                {
                    yield return t;
                }

                break;
            case TypeSpecification specification:
                foreach (var t in Unwrap(specification.ElementType))
                {
                    yield return t;
                }

                break;
            default:
                yield return type;
                break;
        }
    }

    /// <summary>A type's outermost declaring type, by full name and namespace (Cecil gives nested types no namespace).</summary>
    private static (string Name, string Namespace) NameOf(TypeReference type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }

        return (type.FullName, type.Namespace);
    }
}
