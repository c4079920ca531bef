// The worked example of docs/core.md: a small custom stream feature written only against the public
// API, loaded by both roles, negotiated between authentication and binding, and owning a nonza that
// works once online. Also: the transition tables in docs/core.md are the ones in code.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { XmlElement, xml } from "@xmpp-sansio/xml";
import {
  CLIENT_TRANSITIONS,
  type ClientFeature,
  type FeatureEvent,
  renderTransitions,
  SERVER_TRANSITIONS,
  type ServerFeature,
  type StreamFeature,
} from "../src/index.js";
import type { CustomClientMechanism, CustomServerMechanism, ServerMechanism, ServerStep } from "@xmpp-sansio/sasl";
import { enc, makePair } from "./harness.js";

const NS_HELLO = "urn:example:hello";

/** `urn:example:hello`: the server offers it after authentication; the client says hello, the server welcomes. */
const hello: StreamFeature = {
  name: "hello",
  namespaces: [NS_HELLO],
  availability: { requires: { authenticated: true }, until: "bound" },
  restarts: false,
  mandatory: false,
  server(): ServerFeature {
    return {
      offer: () => xml("hello", { xmlns: NS_HELLO }),
      handleElement(el, ctx) {
        if (el.name === "hello" && !ctx.flags.bound) {
          ctx.write(xml("welcome", { xmlns: NS_HELLO }, `Hello, ${el.attr("name") ?? "stranger"}`));
          ctx.emit({ type: "feature", feature: "hello", name: "greeted", data: el.attr("name") } satisfies FeatureEvent);
        } else if (el.name === "ping" && ctx.flags.bound) ctx.write(xml("pong", { xmlns: NS_HELLO }));
        else ctx.fatal("unsupported-stanza-type", `unexpected <${el.name}/> of ${NS_HELLO}`);
      },
    };
  },
  client(): ClientFeature {
    let said = false;
    return {
      negotiate(features, ctx) {
        if (said || features.getChild("hello", NS_HELLO) === undefined) return false;
        said = true;
        ctx.write(new XmlElement("hello", NS_HELLO, { name: ctx.account.local }));
        return true; // wait for <welcome/>
      },
      handleElement(el, ctx) {
        if (el.name === "welcome") {
          ctx.emit({ type: "feature", feature: "hello", name: "welcomed", data: el.text() });
          ctx.done(); // binding comes next
        } else if (el.name === "pong") ctx.emit({ type: "feature", feature: "hello", name: "pong" });
        else ctx.fatal("unsupported-stanza-type", `unexpected <${el.name}/> of ${NS_HELLO}`);
      },
    };
  },
};

describe("a custom stream feature (docs/core.md worked example)", () => {
  it("is offered, negotiated between SASL and binding, and owns its nonzas online", () => {
    const p = makePair({ client: { tls: "none", features: [hello] }, server: { tls: "none", features: [hello] } });
    p.client.start(0);
    p.server.start(0);
    p.run();
    expect(p.client.state).toBe("online");
    expect(p.serverEvents).toContainEqual({ type: "feature", feature: "hello", name: "greeted", data: "juliet" });
    const types = p.clientEvents.map((e) => (e.type === "feature" ? `feature:${e.name}` : e.type));
    expect(types.indexOf("feature:welcomed")).toBeLessThan(types.indexOf("online"));
    expect(p.clientEvents).toContainEqual({ type: "feature", feature: "hello", name: "welcomed", data: "Hello, juliet" });
    // Online: a nonza of the feature's namespace goes to the feature, never to the stanza stream.
    p.server.receive(enc(`<ping xmlns='${NS_HELLO}'/>`), 1);
    p.run();
    expect(p.clientEvents.at(-1)).toEqual({ type: "feature", feature: "hello", name: "pong" });
    expect(p.serverEvents.some((e) => e.type === "stanza")).toBe(false);
  });

  it("a client that does not load it ignores the offer and still gets online", () => {
    const p = makePair({ client: { tls: "none" }, server: { tls: "none", features: [hello] } });
    p.client.start(0);
    p.server.start(0);
    p.run();
    expect(p.client.state).toBe("online");
  });

  it("two features may not claim one namespace", () => {
    const twin: StreamFeature = { ...hello, name: "hello-twin" };
    expect(() => makePair({ server: { features: [hello, twin] } })).toThrow(/both claim namespace 'urn:example:hello'/);
  });
});

describe("docs/core.md shows the transition tables of the code", () => {
  const doc = readFileSync(new URL("../../../docs/core.md", import.meta.url), "utf8");
  const section = (role: string) => new RegExp(`<!-- ${role}-transitions -->\\n([\\s\\S]*?)\\n<!-- /${role}-transitions -->`).exec(doc)?.[1];
  it("the client table", () => expect(section("client")).toBe(renderTransitions(CLIENT_TRANSITIONS)));
  it("the server table", () => expect(section("server")).toBe(renderTransitions(SERVER_TRANSITIONS)));
});

describe("the SASL mechanism set is open", () => {
  // X-SHARED-TOKEN: the client sends "user\0token"; the server asks the application, as for PLAIN.
  const te = new TextEncoder();
  const client: CustomClientMechanism = {
    name: "X-SHARED-TOKEN",
    create(o) {
      let state: "initial" | "sent" | "succeeded" = "initial";
      return {
        name: "X-SHARED-TOKEN",
        get state() {
          return state as never;
        },
        initialResponse() {
          state = "sent";
          return te.encode(`${o.username}\u0000${o.password}`);
        },
        challenge: () => ({ condition: "malformed-request", text: "no challenge expected" }) as never,
        finish() {
          state = "succeeded";
          return true;
        },
      };
    },
  };
  const server: CustomServerMechanism = {
    name: "X-SHARED-TOKEN",
    create: () => {
      let user = "";
      const fail = (): ServerStep => ({ kind: "failure", condition: "not-authorized", text: "bad token" }) as ServerStep;
      return {
        name: "X-SHARED-TOKEN",
        state: "initial",
        start(initial: Uint8Array | null) {
          const [u, token] = new TextDecoder().decode(initial ?? new Uint8Array()).split("\u0000");
          user = u ?? "";
          return { kind: "verify-password", username: user, password: token ?? "" } as ServerStep;
        },
        response: fail,
        supplyCredentials: fail,
        verdict: (ok: unknown) => (ok === true ? ({ kind: "success", identity: { mechanism: "X-SHARED-TOKEN", authcid: user, authzid: undefined } } as ServerStep) : fail()),
        refuse: fail,
        abort: fail,
      } as unknown as ServerMechanism;
    },
  };

  it("an application's mechanism is offered, preferred and negotiated by both roles", () => {
    const p = makePair({
      client: { tls: "none", customMechanisms: [client] },
      server: { tls: "none", allowPlainInClear: true, customMechanisms: [server] },
    });
    p.client.start(0);
    p.server.start(0);
    p.run();
    expect(p.client.state).toBe("online");
    expect(p.clientEvents).toContainEqual({ type: "authenticated", mechanism: "X-SHARED-TOKEN" });
    expect(p.serverEvents.find((e) => e.type === "verify-password")).toMatchObject({ username: "juliet", password: "r0m30myr0m30" });
  });

  it("a client without it never picks it; a server without it answers invalid-mechanism", () => {
    const p = makePair({ client: { tls: "none" }, server: { tls: "none", allowPlainInClear: true, customMechanisms: [server] } });
    p.client.start(0);
    p.server.start(0);
    p.run();
    expect(p.clientEvents.find((e) => e.type === "authenticated")).toMatchObject({ mechanism: "SCRAM-SHA-512" });
  });
});
