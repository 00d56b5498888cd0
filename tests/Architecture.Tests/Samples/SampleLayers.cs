// Types for the checker's own tests: each use below is of one kind the reader must see.
#pragma warning disable CA1812, CA1822, CA1852, IDE0059
namespace Architecture.Tests.Samples.Lower
{
    public class Base
    {
    }

    public interface IMarker
    {
    }

    public sealed class UsedInBodyOnly
    {
        public static int Value => 1;
    }

    public sealed class UsedAsGenericArgument
    {
    }

    [AttributeUsage(AttributeTargets.All)]
    public sealed class MarkAttribute : Attribute
    {
    }
}

namespace Architecture.Tests.Samples.Upper
{
    using Architecture.Tests.Samples.Lower;

    public sealed class Derived : Base, IMarker
    {
    }

    public sealed class BodyUser
    {
        public int Run() => UsedInBodyOnly.Value;

        public int Lambda() => new Func<int>(() => UsedInBodyOnly.Value)();
    }

    public sealed class GenericUser
    {
        public int Count() => new List<UsedAsGenericArgument[]>().Count;
    }

    [Mark]
    public sealed class Marked
    {
    }
}
