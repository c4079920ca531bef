/**
 * RFC 6120 §9.1: the client-to-server example session (juliet@im.example.com, SCRAM-SHA-1, resource
 * "balcony"), as the XML each side sends. Line breaks inside base64 are the RFC's, for readability.
 * `restart` marks where a new stream begins: after TLS (`<proceed/>`) and after SASL (`<success/>`).
 */
export interface Step {
  readonly from: "C" | "S";
  readonly xml: string;
  /** This step is followed by a stream restart on both sides. */
  readonly restart?: "tls" | "sasl";
}

const clientHeader = `<stream:stream from='juliet@im.example.com' to='im.example.com' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;
const serverHeader = (id: string) =>
  `<stream:stream from='im.example.com' id='${id}' to='juliet@im.example.com' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;

export const RFC6120_SESSION: readonly Step[] = [
  { from: "C", xml: `<?xml version='1.0'?>${clientHeader}` },
  { from: "S", xml: serverHeader("t7AMCin9zjMNwQKDnplntZPIDEI=") },
  { from: "S", xml: `<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>` },
  { from: "C", xml: `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>` },
  { from: "S", xml: `<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`, restart: "tls" },
  { from: "C", xml: clientHeader },
  { from: "S", xml: serverHeader("vgKi/bkYME8OAj4rlXMkpucAqe4=") },
  {
    from: "S",
    xml: `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1-PLUS</mechanism><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
  },
  {
    from: "C",
    xml: `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="SCRAM-SHA-1">biwsbj1qdWxpZXQscj1vTXNUQUF3QUFBQU1BQUFBTlAwVEFBQUFBQUJQVTBBQQ==</auth>`,
  },
  {
    from: "S",
    xml: `<challenge xmlns="urn:ietf:params:xml:ns:xmpp-sasl">cj1vTXNUQUF3QUFBQU1BQUFBTlAwVEFBQUFBQUJQVTBBQWUxMjQ2OTViLTY5YTktNGRlNi05YzMwLWI1MWIzODA4YzU5ZSxzPU5qaGtZVE0wTURndE5HWTBaaTAwTmpkbUxUa3hNbVV0TkRsbU5UTm1ORE5rTURNeixpPTQwOTY=</challenge>`,
  },
  {
    from: "C",
    xml: `<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">Yz1iaXdzLHI9b01zVEFBd0FBQUFNQUFBQU5QMFRBQUFBQUFCUFUwQUFlMTI0Njk1Yi02OWE5LTRkZTYtOWMzMC1iNTFiMzgwOGM1OWUscD1VQTU3dE0vU3ZwQVRCa0gyRlhzMFdEWHZKWXc9</response>`,
  },
  { from: "S", xml: `<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1wTk5ERlZFUXh1WHhDb1NFaVc4R0VaKzFSU289</success>`, restart: "sasl" },
  { from: "C", xml: clientHeader },
  { from: "S", xml: serverHeader("gPybzaOzBmaADgxKXu9UClbprp0=") },
  { from: "S", xml: `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>` },
  { from: "C", xml: `<iq id='yhc13a95' type='set'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>balcony</resource></bind></iq>` },
  { from: "S", xml: `<iq id='yhc13a95' type='result'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>juliet@im.example.com/balcony</jid></bind></iq>` },
  {
    from: "C",
    xml: `<message from='juliet@im.example.com/balcony' id='ju2ba41c' to='romeo@example.net' type='chat' xml:lang='en'><body>Art thou not Romeo, and a Montague?</body></message>`,
  },
  {
    from: "S",
    xml: `<message from='romeo@example.net/orchard' id='ju2ba41c' to='juliet@im.example.com/balcony' type='chat' xml:lang='en'><body>Neither, fair saint, if either thee dislike.</body></message>`,
  },
  { from: "C", xml: `</stream:stream>` },
  { from: "S", xml: `</stream:stream>` },
];
