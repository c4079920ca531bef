import { describe, expect, it } from "vitest";
import { type ChannelBinding, chooseChannelBinding, decodeSaslPayload, encodeSaslPayload, selectMechanism } from "../src/index.js";

const ALL = ["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-512", "SCRAM-SHA-512-PLUS", "PLAIN"];
const cb = (type: ChannelBinding["type"]): ChannelBinding => ({ type, data: new Uint8Array([1]) });
const pw = { password: true };

describe("selectMechanism", () => {
  it("prefers SCRAM-SHA-512-PLUS > 256-PLUS > 1-PLUS with channel binding", () => {
    const s = selectMechanism({ offered: ALL, channelBindings: [cb("tls-unique")], credentials: pw, tls: true });
    expect(s).toMatchObject({ mechanism: "SCRAM-SHA-512-PLUS", channelBinding: cb("tls-unique") });
    expect(s?.options).toEqual({ channelBinding: cb("tls-unique") });
    const s2 = selectMechanism({
      offered: ["SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-512"],
      channelBindings: [cb("tls-unique")],
      credentials: pw,
      tls: true,
    });
    expect(s2?.mechanism).toBe("SCRAM-SHA-256-PLUS");
  });
  it("never -PLUS without channel-binding data; then 512 > 256 > 1, flag n", () => {
    const s = selectMechanism({ offered: ALL, credentials: pw, tls: true });
    expect(s).toMatchObject({ mechanism: "SCRAM-SHA-512", clientSupportsChannelBinding: false });
    expect(selectMechanism({ offered: ["SCRAM-SHA-1", "SCRAM-SHA-256"], credentials: pw, tls: true })?.mechanism).toBe("SCRAM-SHA-256");
  });
  it("flag y when the client has channel binding but the server offers no -PLUS", () => {
    const s = selectMechanism({ offered: ["SCRAM-SHA-256", "PLAIN"], channelBindings: [cb("tls-exporter")], credentials: pw, tls: true });
    expect(s).toMatchObject({ mechanism: "SCRAM-SHA-256", clientSupportsChannelBinding: true, options: { clientSupportsChannelBinding: true } });
  });
  it("flag n when the server offers -PLUS but there is no common channel-binding type", () => {
    const s = selectMechanism({
      offered: ALL,
      serverChannelBindingTypes: ["tls-server-end-point"],
      channelBindings: [cb("tls-exporter")],
      credentials: pw,
      tls: true,
    });
    expect(s).toMatchObject({ mechanism: "SCRAM-SHA-512", clientSupportsChannelBinding: false });
  });
  it("uses XEP-0440 types; prefers tls-exporter", () => {
    const s = selectMechanism({
      offered: ALL,
      serverChannelBindingTypes: ["tls-server-end-point", "tls-exporter"],
      channelBindings: [cb("tls-server-end-point"), cb("tls-exporter")],
      credentials: pw,
      tls: true,
    });
    expect(s?.channelBinding?.type).toBe("tls-exporter");
  });
  it("PLAIN only with TLS or when explicitly allowed", () => {
    expect(selectMechanism({ offered: ["PLAIN"], credentials: pw, tls: false })).toBeUndefined();
    expect(selectMechanism({ offered: ["PLAIN"], credentials: pw, tls: false, allowPlainInClear: true })?.mechanism).toBe("PLAIN");
    expect(selectMechanism({ offered: ["PLAIN"], credentials: pw, tls: true })?.mechanism).toBe("PLAIN");
    expect(selectMechanism({ offered: ["PLAIN"], credentials: pw, tls: true, allowPlain: false })).toBeUndefined();
  });
  it("requireChannelBinding refuses non-PLUS", () => {
    expect(selectMechanism({ offered: ALL, credentials: pw, tls: true, requireChannelBinding: true })).toBeUndefined();
  });
  it("EXTERNAL with a certificate, ANONYMOUS only when asked, custom preference", () => {
    expect(selectMechanism({ offered: ["EXTERNAL", ...ALL], credentials: { external: true, password: true }, tls: true })?.mechanism).toBe("EXTERNAL");
    expect(selectMechanism({ offered: ["EXTERNAL", "ANONYMOUS"], credentials: pw, tls: true })).toBeUndefined();
    expect(selectMechanism({ offered: ["ANONYMOUS"], credentials: { anonymous: true }, tls: true })?.mechanism).toBe("ANONYMOUS");
    expect(selectMechanism({ offered: ALL, credentials: pw, tls: true, preference: ["SCRAM-SHA-1", "SCRAM-SHA-256"] })?.mechanism).toBe("SCRAM-SHA-1");
  });
  it("ignores unknown mechanisms", () => {
    expect(selectMechanism({ offered: ["DIGEST-MD5", "X-OAUTH2"], credentials: pw, tls: true })).toBeUndefined();
  });
});

describe("chooseChannelBinding (XEP-0440)", () => {
  it("without an announcement: the binding of the TLS version in use (tls-unique ≤ 1.2, tls-exporter on 1.3)", () => {
    expect(chooseChannelBinding([cb("tls-exporter"), cb("tls-unique")], undefined)?.type).toBe("tls-unique");
    // TLS 1.3 has no tls-unique (RFC 9266): tls-exporter, never a guess at end-point.
    expect(chooseChannelBinding([cb("tls-exporter"), cb("tls-server-end-point")], undefined)?.type).toBe("tls-exporter");
    expect(chooseChannelBinding([cb("tls-server-end-point")], undefined)).toBeUndefined();
  });
  it("a forced type wins over the announcement", () => {
    expect(chooseChannelBinding([cb("tls-unique"), cb("tls-server-end-point")], ["tls-unique"], ["tls-server-end-point"], true)?.type).toBe("tls-server-end-point");
    expect(chooseChannelBinding([cb("tls-unique")], undefined, ["tls-exporter"], true)).toBeUndefined();
  });
  it("with an announcement, the preferred common type", () => {
    expect(chooseChannelBinding([cb("tls-unique"), cb("tls-server-end-point")], ["tls-server-end-point", "tls-unique"])?.type).toBe("tls-unique");
    expect(chooseChannelBinding([cb("tls-unique")], ["tls-exporter"])).toBeUndefined();
    expect(chooseChannelBinding([cb("tls-unique"), cb("tls-exporter")], ["tls-unique", "tls-exporter"], ["tls-unique"])?.type).toBe("tls-unique");
  });
});

describe("XMPP payload text", () => {
  it("empty vs absent vs base64", () => {
    expect(encodeSaslPayload(null)).toBe("");
    expect(encodeSaslPayload(new Uint8Array(0))).toBe("=");
    expect(encodeSaslPayload(new Uint8Array([0x41]))).toBe("QQ==");
    expect(decodeSaslPayload("")).toBeNull();
    expect(decodeSaslPayload("=")).toEqual(new Uint8Array(0));
    expect(decodeSaslPayload("QQ==")).toEqual(new Uint8Array([0x41]));
    expect(decodeSaslPayload("QQ")).toMatchObject({ condition: "incorrect-encoding", reason: "invalid-base64" });
    expect(decodeSaslPayload(" QQ==")).toMatchObject({ condition: "incorrect-encoding" });
  });
});
