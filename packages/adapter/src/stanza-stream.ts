/**
 * `client.stanzas()`: incoming stanzas as an async iterable, buffered until read, ended (or failed) when
 * the client stops for good.
 *
 * @module
 */
import type { XmlElement } from "@xmpp-sansio/xml";

/** One reader of {@link stanzaStream}, as the controller sees it. */
export interface StanzaSubscriber {
  /** A stanza arrived. */
  push(stanza: XmlElement): void;
  /** The client stopped: end the iteration, with `error` if it stopped because of one. */
  end(error?: Error): void;
}

/** A new async iterator over the stanzas pushed to `subscribers` from now on; `return()` unsubscribes. */
export function stanzaStream(subscribers: Set<StanzaSubscriber>): AsyncIterableIterator<XmlElement> {
  const queue: XmlElement[] = [];
  let waiter: { resolve(r: IteratorResult<XmlElement>): void; reject(e: Error): void } | undefined;
  let done = false;
  let failure: Error | undefined;
  const sub: StanzaSubscriber = {
    push(stanza) {
      if (waiter !== undefined) {
        const w = waiter;
        waiter = undefined;
        w.resolve({ value: stanza, done: false });
      } else queue.push(stanza);
    },
    end(error) {
      done = true;
      failure = error;
      if (waiter !== undefined) {
        const w = waiter;
        waiter = undefined;
        if (error !== undefined) w.reject(error);
        else w.resolve({ value: undefined, done: true });
      }
    },
  };
  subscribers.add(sub);
  const iterator: AsyncIterableIterator<XmlElement> = {
    next: () => {
      if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
      if (done) {
        if (failure !== undefined) {
          const f = failure;
          failure = undefined;
          return Promise.reject(f);
        }
        return Promise.resolve({ value: undefined, done: true });
      }
      return new Promise((resolve, reject) => (waiter = { resolve, reject }));
    },
    return: () => {
      subscribers.delete(sub);
      done = true;
      queue.length = 0;
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
