import { describe, expect, it } from "vitest";
import { CB, makePair } from "./harness.js";

describe("client ↔ server over an in-memory pipe", () => {
  it("negotiates STARTTLS, SCRAM-SHA-512-PLUS (tls-exporter) and binds the requested resource", () => {
    const p = makePair({ channelBinding: CB });
    p.client.start(0);
    p.server.start(0);
    p.run();
    expect(p.clientEvents.map((e) => e.type)).toEqual(["stream-opened", "starttls", "stream-opened", "authenticated", "stream-opened", "online"]);
    expect(p.client.state).toBe("online");
    expect(p.server.state).toBe("online");
    expect(p.client.jid.toString()).toBe("juliet@im.example.com/balcony");
    expect(p.server.jid?.toString()).toBe("juliet@im.example.com/balcony");
    const auth = p.clientEvents.find((e) => e.type === "authenticated");
    expect(auth).toMatchObject({ mechanism: "SCRAM-SHA-512-PLUS" });
  });
});
