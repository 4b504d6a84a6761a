namespace MemScript.Tests.Support;

/// <summary>Locates the repository and the shared contract folder from the test assembly.</summary>
public static class Paths
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Shared => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"));

    public static string Examples => Path.Combine(RepositoryRoot, "examples");

    public static string Cases => Path.Combine(RepositoryRoot, "tests", "cases");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MemScript.sln"))) return dir.FullName;
        throw new InvalidOperationException("MemScript.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>A path relative to the repository, with forward slashes, for stable messages.</summary>
    public static string Relative(string path) => Path.GetRelativePath(RepositoryRoot, path).Replace('\\', '/');
}
