// Starts an xmpp.js 0.14 client, with a fix for a race in xmpp.js (not in our server).
//
// `Connection.open()` (@xmpp/connection/index.js, unchanged on xmpp.js main) writes the stream header,
// awaits the socket's write callback, and only then listens for the "open" event. When the server's
// header is parsed before that callback runs (seen on loopback: "status open" logged before the write
// resolved), the event is missed. Over RFC 6120 SASL the stream restart after <success/> emits a second
// "open" that resolves the wait and hides the bug; SASL2 (XEP-0388) has no restart, so the wait times out
// `timeout` ms (2 s) later — `start()` rejects (Direct TLS) or STARTTLS emits "error" (after the TLS
// restart) with a TimeoutError, while the client is online or already closed cleanly: that is why the
// child exited 1 "at its close" once SASL2 was on. Same symptom as xmppjs/xmpp.js#592 ("TimeoutError on
// starting client … Afterall it is still online").
//
// The fix: the same `open()`, listening for "open" before writing the header.
export function startXmppJs(xmpp, fail) {
  xmpp.open = async function open({ domain, lang }) {
    this._status("opening");
    const header = this.headerElement();
    header.attrs.to = domain;
    header.attrs["xml:lang"] = lang;
    this.root = header;
    this._attachParser(new this.Parser());
    const opened = new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.off("open", onOpen);
        this.off("error", onError);
      };
      const onOpen = (el) => {
        done();
        resolve(el);
      };
      const onError = (err) => {
        done();
        reject(err);
      };
      const timer = setTimeout(() => {
        done();
        reject(Object.assign(new Error("no stream header from the server"), { name: "TimeoutError" }));
      }, this.timeout);
      this.once("open", onOpen);
      this.once("error", onError);
    });
    opened.catch(() => {}); // handled by the caller below; a failed write must not leave it unhandled
    await this.write(this.header(header));
    return opened;
  };
  xmpp.start().catch(fail);
}
