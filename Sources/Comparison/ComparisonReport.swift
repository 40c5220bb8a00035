import Foundation

/// Renders a work directory's runs into `Results.md` and `Results.svg`.
public enum ComparisonReport {
    /// The report's file name.
    public static let markdownFile = "Results.md"
    /// The chart's file name.
    public static let chartFile = "Results.svg"
    /// The learning curves' file name.
    public static let curvesFile = "Results-curves.svg"

    /// Reads the manifest and every run of `workDirectory`, and writes ``markdownFile``,
    /// ``chartFile`` and ``curvesFile`` into `outputDirectory` (created if needed), atomically. Runs still missing are
    /// shown as `—` and counted in the report's notes.
    /// - Parameter workDirectoryName: how the report names the work directory (as typed).
    /// - Returns: the summary the files were made from.
    /// - Throws: ``ComparisonError/nothingToRender(path:)`` if the directory holds no comparison;
    ///   ``ComparisonError/fileError(path:reason:)`` if a file cannot be read or written.
    @discardableResult
    public static func write(
        workDirectory: URL, workDirectoryName: String, outputDirectory: URL
    ) throws -> ComparisonSummary {
        let store = ResultStore(directory: workDirectory)
        guard let manifest = try store.manifest() else { throw ComparisonError.nothingToRender(path: workDirectory.path) }
        let summary = ComparisonSummary(manifest: manifest, results: try store.allResults())
        let files = [
            (markdownFile, MarkdownReport.render(summary, workDirectory: workDirectoryName, chartFile: chartFile)),
            (chartFile, SVGChart.render(summary)),
            (curvesFile, CurveChart.render(summary)),
        ]
        for (name, text) in files {
            let url = outputDirectory.appendingPathComponent(name)
            do {
                try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
                try Data(text.utf8).write(to: url, options: .atomic)
            } catch {
                throw ComparisonError.fileError(path: url.path, reason: "cannot be written (\(error))")
            }
        }
        return summary
    }
}
