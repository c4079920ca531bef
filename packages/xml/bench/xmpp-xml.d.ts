// Minimal typings for @xmpp/xml (JavaScript only), as far as the benchmark uses it.
declare module "@xmpp/xml" {
  export class Parser {
    on(event: string, listener: (...args: never[]) => void): this;
    write(data: string): void;
  }
}
