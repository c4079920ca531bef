// The session's feature set (feature-set.ts): online server sessions whose halves are all shared stateless
// ones hold one frozen set between them (one field each, not five); a session with a feature that keeps
// state of its own (Stream Management) keeps a set of its own; loading refuses two features with one name
// or namespace.
import { describe, expect, it } from "vitest";
import { ServerSession, type StreamFeature, streamManagement } from "../src/index.js";
import { makePair } from "./harness.js";

// White-box: the set is the point.
type Inside = { features: { halves: readonly object[] } };
const set = (s: ServerSession) => (s as unknown as Inside).features;

const online = (server: object) => {
  const p = makePair({ server: { tls: "none", mechanisms: ["PLAIN"], allowPlainInClear: true, ...server }, client: { tls: "none", mechanisms: ["PLAIN"], allowPlainInClear: true } as never });
  p.client.start(0);
  p.server.start(0);
  p.run();
  expect(p.server.state).toBe("online");
  return p;
};

describe("feature set", () => {
  it("online server sessions with the same features share one frozen set", () => {
    const [p, q] = [online({}), online({})];
    expect(set(p.server)).toBe(set(q.server));
    expect(Object.isFrozen(set(p.server))).toBe(true);
    expect(Object.getOwnPropertyNames(p.server)).not.toContain("halves");
    // Before going online, each session has its own (its SASL and binding halves hold its state).
    const fresh = [new ServerSession({ tls: "none" }), new ServerSession({ tls: "none" })] as const;
    expect(set(fresh[0])).not.toBe(set(fresh[1]));
    expect(Object.isFrozen(set(fresh[0]))).toBe(false);
  });

  it("a session with Stream Management keeps a set of its own", () => {
    const [p, q] = [online({ features: [streamManagement()] }), online({ features: [streamManagement()] })];
    expect(set(p.server)).not.toBe(set(q.server));
    expect(Object.isFrozen(set(p.server))).toBe(false);
    expect(p.server.featureHalf("sm")).toBeDefined();
  });

  it("two features with one name or one namespace are refused", () => {
    const f = (name: string, ns: string): StreamFeature => ({ name, namespaces: [ns], availability: {}, restarts: false, mandatory: false, server: () => ({ offer: () => undefined, handleElement: () => undefined }) });
    expect(() => new ServerSession({ tls: "none", features: [f("x", "urn:a"), f("x", "urn:b")] })).toThrow(/two stream features are named 'x'/);
    expect(() => new ServerSession({ tls: "none", features: [f("x", "urn:a"), f("y", "urn:a")] })).toThrow(/both claim namespace 'urn:a'/);
  });
});
