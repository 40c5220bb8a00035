import Foundation

/// `peft serve` as a child process: over HTTP on a free loopback port, or over JSON Lines on pipes.
final class ServerProcess: @unchecked Sendable {
    let process: Process
    /// `http://127.0.0.1:PORT` for an HTTP server; empty for JSON Lines.
    let baseURL: String
    /// The JSON Lines server's standard output, a line at a time (empty for HTTP).
    let lines: AsyncStream<String>
    private let input: FileHandle?

    var pid: Int32 { process.processIdentifier }

    private init(process: Process, baseURL: String, lines: AsyncStream<String>, input: FileHandle?) {
        (self.process, self.baseURL, self.lines, self.input) = (process, baseURL, lines, input)
    }

    struct LaunchFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts `peft serve --http --port 0 ARGUMENTS` and waits until it listens.
    static func http(peft: String, arguments: [String], queue: Int) async throws -> ServerProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: peft)
        process.arguments = ["serve", "--http", "--port", "0", "--model-name", "base", "--max-queue", "\(queue)"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let errorLines = lineStream(errors.fileHandleForReading)
        for await line in errorLines {
            if let range = line.range(of: "listening on ") {
                let url = line[range.upperBound...].prefix { $0 != "," }
                // Keep draining standard error so the server never blocks on it.
                Task.detached { for await _ in errorLines {} }
                return ServerProcess(process: process, baseURL: String(url), lines: AsyncStream { $0.finish() }, input: nil)
            }
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        process.waitUntilExit()
        throw LaunchFailure(description: "peft serve --http exited before listening (status \(process.terminationStatus))")
    }

    /// Starts `peft serve ARGUMENTS` with pipes for its standard input and output.
    static func jsonLines(peft: String, arguments: [String]) throws -> ServerProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: peft)
        process.arguments = ["serve"] + arguments
        let (input, output) = (Pipe(), Pipe())
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        return ServerProcess(
            process: process, baseURL: "", lines: lineStream(output.fileHandleForReading), input: input.fileHandleForWriting)
    }

    /// Sends one line to a JSON Lines server.
    func write(_ line: String) throws {
        try input?.write(contentsOf: Data((line + "\n").utf8))
    }

    func stop() {
        try? input?.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// The lines `handle` gives, read on a thread of their own.
    private static func lineStream(_ handle: FileHandle) -> AsyncStream<String> {
        AsyncStream { continuation in
            let reader = Thread {
                var pending = Data()
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    pending.append(chunk)
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        continuation.yield(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                        pending.removeSubrange(pending.startIndex...newline)
                    }
                }
                continuation.finish()
            }
            reader.start()
        }
    }
}
