namespace Llmaot.Tests.TestSupport;

/// <summary>Locates ../shared (models and the ONNX node suite). Missing data fails the test with a clear message, never a silent pass.</summary>
public static class SharedData
{
    /// <summary>The repository root (the folder holding Aot.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !System.IO.File.Exists(Path.Combine(d.FullName, "Aot.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Aot.sln) above " + AppContext.BaseDirectory);
    }

    /// <summary>../shared beside the repository.</summary>
    public static string Root
    {
        get
        {
            string p = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
            if (!Directory.Exists(Path.Combine(p, "models")))
                throw new InvalidOperationException($"../shared is missing (looked for {p}/models). Tests need the shared models and node suite checked out beside the repository.");
            return p;
        }
    }

    /// <summary>A file under ../shared; throws if absent.</summary>
    public static string File(string relative)
    {
        string p = Path.Combine(Root, relative);
        if (!System.IO.File.Exists(p)) throw new FileNotFoundException($"shared file missing: {p}");
        return p;
    }

    /// <summary>
    /// A fresh temporary directory. It is deleted when the test process exits (NativeAOT builds leave ~100 MB each), unless
    /// LLMAOT_KEEP_TEST_FILES=1 is set to keep them for inspection.
    /// </summary>
    public static string TempDir(string prefix)
    {
        string d = Path.Combine(Path.GetTempPath(), "llmaot-tests", prefix + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        lock (Created)
        {
            if (Created.Count == 0 && Environment.GetEnvironmentVariable("LLMAOT_KEEP_TEST_FILES") != "1")
                AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteCreated();
            Created.Add(d);
        }
        return d;
    }

    private static readonly List<string> Created = [];

    private static void DeleteCreated()
    {
        lock (Created)
            foreach (var d in Created)
                try { Directory.Delete(d, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
