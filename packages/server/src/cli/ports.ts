/**
 * A look before `serve` writes anything: can the ports be bound? A port in use or below 1024 without the
 * right is then refused (exit 69) before the data directory, the database or a certificate is made. The
 * real listen can still fail (another process may take the port in between); it is then refused the same way.
 *
 * @module
 */
import { createServer } from "node:net";
import { CliError, ExitCode } from "./exit.js";

/** Binds and releases each port (0 is skipped: any free port will do); throws exit 69 naming the first that fails. */
export async function checkPortsFree(host: string, ports: readonly (number | undefined)[]): Promise<void> {
  for (const port of ports) {
    if (port === undefined || port === 0) continue;
    const server = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen({ port, host, exclusive: true }, () => resolve());
      });
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      throw new CliError(ExitCode.UNAVAILABLE, `cannot listen on ${host}:${port}: ${e.code ?? e.message}${e.code === "EADDRINUSE" ? " (the port is in use)" : e.code === "EACCES" ? " (ports below 1024 need privileges)" : ""}`);
    } finally {
      await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    }
  }
}
