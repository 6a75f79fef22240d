/**
 * `make` with its last result remembered: called again only when the key differs from the previous call's. For
 * values derived per message from something that mostly comes in runs (a channel, a message type): the same string
 * comes back each time, so it is neither built again nor hashed again by a later lookup.
 */
export function rememberLast<V>(make: (key: string) => V): (key: string) => V {
  let lastKey: string | undefined;
  let lastValue: V;
  return (key) => {
    if (key !== lastKey) {
      lastValue = make(key);
      lastKey = key;
    }
    return lastValue;
  };
}
