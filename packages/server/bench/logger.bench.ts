// The CLI logger's cost per record: formatting alone (a writer that drops the line) and formatting plus
// a synchronous write to /dev/null, for the text and JSON formats. Prints records per second.
// env: BENCH_LOG_MS=1000 (time per case)
import { closeSync, openSync, writeSync } from "node:fs";
import { Logger, type LogFormat } from "../src/cli/logger.js";

const MS = Number(process.env.BENCH_LOG_MS ?? 1000);
const devNull = openSync("/dev/null", "w");
const sinks: Record<string, (line: string) => void> = {
  format: () => {},
  "write /dev/null": (line) => void writeSync(devNull, `${line}\n`),
};

for (const format of ["text", "json"] as LogFormat[]) {
  for (const [sink, write] of Object.entries(sinks)) {
    const log = new Logger({ format, write });
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < MS) {
      for (let i = 0; i < 1000; i++) {
        log.serverLine(`online  juliet@example.com/balcony-${i} from 203.0.113.7 (STARTTLS, SCRAM-SHA-256-PLUS)`);
        log.info("connect", `connection ${i} from 203.0.113.7 port 51234 (STARTTLS)`, { conn: i, ip: "203.0.113.7", transport: "STARTTLS" });
      }
      n += 2000;
    }
    const seconds = (performance.now() - start) / 1000;
    console.log(`${format.padEnd(4)} ${sink.padEnd(16)} ${Math.round(n / seconds).toLocaleString("en")} records/s (${((seconds * 1e6) / n).toFixed(2)} µs each)`);
  }
}
closeSync(devNull);
