// The application API over loopback with the Node adapters: the server's own IQ handlers
// (server.iqHandlers) answer requests to the domain; a client's built-ins answer the server's ping; one
// import (@xmpp-sansio/node) gives everything used here.
import { describe, expect, it } from "vitest";
import { type StanzaErrorException, stanzaError, type XmlElement, XmppClient, XmppServer, type XmppServerHooks, xml } from "../src/index.js";
import { accountHooks, PASSWORDS } from "./support/accounts.js";
import { hasOpenssl } from "./support/certs.js";
import { loopbackFixture } from "./support/loopback.js";

const describeTls = hasOpenssl() ? describe : describe.skip;

describeTls("IQ handlers over loopback (Node client and server)", () => {
  const fx = loopbackFixture();
  const { servers, clients } = fx;

  async function setup(seen: (stanza: XmlElement) => void = () => {}) {
    let server!: XmppServer;
    const base = accountHooks(() => server);
    const hooks: XmppServerHooks = {
      ...base,
      stanza(conn, stanza) {
        seen(stanza);
        return base.stanza!(conn, stanza);
      },
    };
    server = new XmppServer({ domains: "localhost", tls: { key: fx.cert.key, cert: fx.cert.cert }, host: "127.0.0.1", port: 0, hooks });
    servers.push(server);
    const { port } = await server.listen();
    const client = new XmppClient({ jid: "juliet@localhost/balcony", password: PASSWORDS.get("juliet")!, host: "127.0.0.1", port: port!, tls: { ca: fx.cert.cert } });
    clients.push(client);
    await client.online();
    return { server, client };
  }

  it("server.iqHandlers answers requests to the domain (sync, async, errors); others keep their old path", async () => {
    const { server, client } = await setup();
    server.iqHandlers.on("get", "urn:example:time", "time", (iq) => xml("time", { xmlns: "urn:example:time" }, `for ${iq.attr("from")}`));
    server.iqHandlers.on("set", "urn:example:time", "time", async () => stanzaError("forbidden", { text: "the clock is read-only" }));
    const time = await client.iqGet(xml("time", { xmlns: "urn:example:time" }), "localhost");
    expect(time?.text()).toBe("for juliet@localhost/balcony");
    const noTo = await client.iqGet(xml("time", { xmlns: "urn:example:time" }));
    expect(noTo?.name).toBe("time");
    const err = (await client.iqSet(xml("time", { xmlns: "urn:example:time" }), "localhost").catch((e: unknown) => e)) as StanzaErrorException;
    expect([err.condition, err.stanzaError.text]).toEqual(["forbidden", "the clock is read-only"]);
    const unknown = (await client.iqGet(xml("query", { xmlns: "urn:example:none" }), "localhost").catch((e: unknown) => e)) as StanzaErrorException;
    expect(unknown.condition).toBe("service-unavailable");
  });

  it("the server pings the client: answered by the client's built-in ping, exactly once; unknown requests get service-unavailable", async () => {
    const answers: XmlElement[] = [];
    let arrived!: () => void;
    const marker = new Promise<void>((resolve) => (arrived = resolve));
    const { server, client } = await setup((s) => {
      if (s.name === "iq" && s.attr("id")?.startsWith("srv-")) answers.push(s);
      if (s.attr("id") === "srv-marker") arrived();
    });
    const conn = server.connectionFor(client.jid!)!;
    conn.send(xml("iq", { type: "get", id: "srv-ping", to: client.jid!.toString(), from: "localhost" }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    conn.send(xml("iq", { type: "set", id: "srv-other", to: client.jid!.toString(), from: "localhost" }, xml("x", { xmlns: "urn:example:x" })));
    // A second answer to either would arrive before the answer to this one (one ordered stream).
    conn.send(xml("iq", { type: "get", id: "srv-marker", to: client.jid!.toString(), from: "localhost" }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    await marker;
    expect(answers.map((a) => `${a.attr("id")} ${a.attr("type")}`)).toEqual(["srv-ping result", "srv-other error", "srv-marker result"]);
    expect(answers[1]!.getChild("error")!.getChild("service-unavailable", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBeDefined();
  });
});
