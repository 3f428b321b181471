using System.Globalization;
using Xares.DevKit;

namespace Xares.Bench.Helper;

/// <summary>
/// <c>git credential fill</c> through the published helper with a warm sidecar cache, against a
/// static shell helper, in alternating hyperfine rounds; then where the helper's own time goes.
/// </summary>
internal static class FillBenchmark
{
    private const string StaticHost = "static.invalid";
    private const string StaticHelper = "!f() { echo username=u; echo password=p; }; f";
    private const double TargetRatio = 1.5;
    private const int Rounds = 10;

    public static async Task<int> RunAsync(int warmup, int runs, string? exportDirectory)
    {
        await using var bench = await BenchWorkspace.StartAsync();
        var git = bench.Git;
        var scratch = bench.Directory.Path;

        // The static helper is configured like the Xares one (reset, then the helper), so both fills
        // read the same config and differ only in the helper.
        BenchWorkspace.Require(await git.GitAsync("config", "--global", "--add", $"credential.https://{StaticHost}.helper", ""), "git config");
        BenchWorkspace.Require(await git.GitAsync("config", "--global", "--add", $"credential.https://{StaticHost}.helper", StaticHelper), "git config");
        var xaresInput = Path.Combine(scratch, "xares.in");
        var staticInput = Path.Combine(scratch, "static.in");
        await File.WriteAllTextAsync(xaresInput, CredentialRequest.Format("http", bench.Host));
        await File.WriteAllTextAsync(staticInput, CredentialRequest.Format("https", StaticHost));

        // Prove both answer (and warm the sidecar's cache) before timing anything.
        await bench.CloneAsync();
        await CheckFillAsync(git, xaresInput, BenchWorkspace.GitUser, bench.Token);
        await CheckFillAsync(git, staticInput, "u", "p");

        var helper = Artifacts.GitHelper;
        Console.WriteLine($"\n== git credential fill: git-credential-xares (warm sidecar cache) vs a static shell helper, {runs} runs in {Rounds} alternating rounds ==");
        var fill = await Hyperfine.RunInRoundsAsync(
            [
                new("static shell helper", $"git credential fill < {staticInput}"),
                new("git-credential-xares", $"git credential fill < {xaresInput}"),
            ],
            warmup, runs, Rounds, Path.Combine(scratch, "helper-fill.json"), git.Environment, scratch);

        Console.WriteLine("\n== where the helper's time goes ==");
        var parts = await Hyperfine.RunInRoundsAsync(
            [
                new("/bin/true (process spawn)", $"/bin/true < {xaresInput}"),
                new("static helper alone", $"sh -c '{StaticHelper[1..]} get' < {staticInput}"),
                new("helper store (start + runtime init, no socket)", $"{helper} store < {xaresInput}"),
                new("helper get (+ one sidecar call)", $"{helper} get < {xaresInput}"),
            ],
            warmup, runs, Rounds, Path.Combine(scratch, "helper-parts.json"), git.Environment, scratch);

        if (exportDirectory is not null)
        {
            Directory.CreateDirectory(exportDirectory);
            File.Copy(Path.Combine(scratch, "helper-fill.json"), Path.Combine(exportDirectory, "helper-fill.json"), overwrite: true);
            File.Copy(Path.Combine(scratch, "helper-parts.json"), Path.Combine(exportDirectory, "helper-parts.json"), overwrite: true);
        }

        var (staticFill, xaresFill) = (fill[0].MedianMs, fill[1].MedianMs);
        var (spawn, staticAlone, start, get) = (parts[0].MedianMs, parts[1].MedianMs, parts[2].MedianMs, parts[3].MedianMs);
        var ratio = xaresFill / staticFill;
        Console.WriteLine($"""

            git credential fill, medians of {runs} runs:
              static shell helper            {F(staticFill)} ms
              git-credential-xares           {F(xaresFill)} ms (warm sidecar cache)
              ratio                          {ratio:F2} (target <= {TargetRatio})
            the helper alone, medians:
              /bin/true                      {F(spawn)} ms  (process spawn)
              static helper (sh)             {F(staticAlone)} ms
              git-credential-xares store     {F(start)} ms  (spawn + runtime init + reading the request; no socket)
              git-credential-xares get       {F(get)} ms  (the same + one call to the sidecar)
              => runtime init ~ {F(start - spawn)} ms (store - true), sidecar call ~ {F(get - start)} ms (get - store)
            """);
        // The last line is read by bench/helper-fill.sh.
        Console.WriteLine(
            $"helper-fill: runs={runs} static={F(staticFill)} xares={F(xaresFill)} ratio={ratio:F2} " +
            $"spawn={F(spawn)} init={F(start - spawn)} call={F(get - start)} get={F(get)}");
        return 0;
    }

    private static async Task CheckFillAsync(GitWorkspace git, string inputFile, string username, string password)
    {
        var result = BenchWorkspace.Require(
            await git.RunAsync("git", ["credential", "fill"], stdin: await File.ReadAllTextAsync(inputFile)), "git credential fill");
        var answer = CredentialRequest.Parse(result.Stdout);
        if (answer.GetValueOrDefault("username") != username || answer.GetValueOrDefault("password") != password)
        {
            throw new InvalidOperationException($"git credential fill < {Path.GetFileName(inputFile)} did not answer with the expected credential.");
        }
    }

    private static string F(double ms) => ms.ToString("F2", CultureInfo.InvariantCulture);
}
