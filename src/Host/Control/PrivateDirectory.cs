using Mono.Unix;
using Mono.Unix.Native;

namespace Host.Control;

/// <summary>
/// The directory of the control socket, made safe before anything is bound in it: it must be a
/// real directory (not a symbolic link), owned by the effective user, writable by nobody else, in a
/// parent that nobody else can rename it out of. A missing one is created with mkdir(0700) and then
/// checked with lstat like an existing one, so a directory another user slipped in first (the
/// /tmp/ovs-actors-$USER race) is refused, never adopted. Once checked, only its owner (and root) can
/// change what it holds, so binding, renaming and removing the socket inside it race with nobody.
/// </summary>
internal static class PrivateDirectory
{
    private const FilePermissions OthersWrite = FilePermissions.S_IWGRP | FilePermissions.S_IWOTH;

    /// <summary>Creates <paramref name="directory"/> (and missing parents) with mode 0700 where absent, then checks it.</summary>
    /// <exception cref="ControlSocketException">The directory, or its parent, could be changed by another user; or it cannot be made.</exception>
    public static void Prepare(string directory)
    {
        string? parent = Path.GetDirectoryName(directory);
        if (parent is not null && !Exists(parent))
        {
            Prepare(parent);
        }

        if (Syscall.mkdir(directory, FilePermissions.S_IRWXU) != 0)
        {
            var errno = Stdlib.GetLastError();
            if (errno != Errno.EEXIST)
            {
                throw new ControlSocketException($"cannot create {directory}: {UnixMarshal.GetErrorDescription(errno)}");
            }
        }

        Check(directory);
        if (parent is not null)
        {
            CheckParent(parent, directory);
        }
    }

    /// <summary>The effective user id of this process (the owner every checked file must have).</summary>
    public static uint EffectiveUser => Syscall.geteuid();

    /// <summary>A user id as "uid N (name)", the name when the system knows it.</summary>
    public static string Describe(long uid)
    {
        try
        {
            return $"uid {uid} ({new UnixUserInfo(uid).UserName})";
        }
        catch (ArgumentException)
        {
            return $"uid {uid}";
        }
    }

    private static void Check(string directory)
    {
        var stat = Lstat(directory);
        if ((stat.st_mode & FilePermissions.S_IFMT) == FilePermissions.S_IFLNK)
        {
            throw new ControlSocketException($"{directory} is a symbolic link: the control socket's directory must be a real directory of yours");
        }

        if ((stat.st_mode & FilePermissions.S_IFMT) != FilePermissions.S_IFDIR)
        {
            throw new ControlSocketException($"{directory} is not a directory");
        }

        if (stat.st_uid != EffectiveUser)
        {
            throw new ControlSocketException(
                $"{directory} belongs to {Describe(stat.st_uid)}, not to {Describe(EffectiveUser)}: another user could replace the control socket; remove it or choose another directory");
        }

        if ((stat.st_mode & OthersWrite) != 0)
        {
            throw new ControlSocketException(
                $"{directory} is writable by other users (mode {Mode(stat)}): another user could replace the control socket; make it 0700 or choose another directory");
        }
    }

    /// <summary>
    /// The parent must not let another user rename the socket's directory away and put their own in
    /// its place: owned by us or root, and writable by others only with the sticky bit (/tmp).
    /// </summary>
    private static void CheckParent(string parent, string directory)
    {
        var stat = Stat(parent);
        bool trustedOwner = stat.st_uid == EffectiveUser || stat.st_uid == 0;
        bool othersCanRename = (stat.st_mode & OthersWrite) != 0 && (stat.st_mode & FilePermissions.S_ISVTX) == 0;
        if (!trustedOwner || othersCanRename)
        {
            throw new ControlSocketException(
                $"{parent} (owned by {Describe(stat.st_uid)}, mode {Mode(stat)}) lets another user rename {directory} away: choose a directory under one that only you or root can change");
        }
    }

    private static bool Exists(string path) => Syscall.lstat(path, out _) == 0;

    /// <summary>lstat: the entry itself, a symbolic link not followed.</summary>
    internal static Stat Lstat(string path)
    {
        if (Syscall.lstat(path, out var stat) != 0)
        {
            throw new ControlSocketException($"cannot inspect {path}: {UnixMarshal.GetErrorDescription(Stdlib.GetLastError())}");
        }

        return stat;
    }

    private static Stat Stat(string path)
    {
        if (Syscall.stat(path, out var stat) != 0)
        {
            throw new ControlSocketException($"cannot inspect {path}: {UnixMarshal.GetErrorDescription(Stdlib.GetLastError())}");
        }

        return stat;
    }

    private static string Mode(Stat stat) => Convert.ToString((int)stat.st_mode & 0xFFF, 8).PadLeft(4, '0');
}
