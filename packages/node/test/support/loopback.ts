// The fixture of the loopback suites: a test certificate for localhost, and what a test starts (servers,
// clients, raw sockets), stopped after each test — sockets first, then clients, then servers.
import type * as net from "node:net";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { XmppClient, XmppServer } from "../../src/index.js";
import { makeCert, type TestCert } from "./certs.js";

/** What {@link loopbackFixture} gives a suite. */
export interface LoopbackFixture {
  /** The suite's certificate (made before its first test). */
  readonly cert: TestCert;
  /** Servers a test started: closed after it. */
  readonly servers: XmppServer[];
  /** Clients a test started: closed after it (a failed close is ignored). */
  readonly clients: XmppClient[];
  /** Raw sockets a test opened: destroyed after it. */
  readonly sockets: net.Socket[];
}

/** Registers the hooks in the calling `describe` and returns the lists a test fills. */
export function loopbackFixture(): LoopbackFixture {
  let cert: TestCert | undefined;
  const fixture = {
    get cert(): TestCert {
      if (cert === undefined) throw new Error("the certificate is made in beforeAll");
      return cert;
    },
    servers: [] as XmppServer[],
    clients: [] as XmppClient[],
    sockets: [] as net.Socket[],
  };
  beforeAll(() => {
    cert = makeCert({ cn: "localhost" });
  });
  afterEach(async () => {
    for (const s of fixture.sockets.splice(0)) s.destroy();
    await Promise.all(fixture.clients.splice(0).map((c) => c.close().catch(() => {})));
    await Promise.all(fixture.servers.splice(0).map((s) => s.close()));
  });
  afterAll(() => cert?.cleanup());
  return fixture;
}
