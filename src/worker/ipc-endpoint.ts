/**
 * A comlink endpoint over a Node IPC channel (a forked child's ChildProcess on the host side, `process` inside the
 * child), so the engine API can be exposed by a worker process exactly as by a worker thread. The channel must use
 * serialization 'advanced' (structured clone), which carries typed arrays; they are copied, never transferred, so
 * transfer lists are ignored.
 */
import type { Endpoint } from 'comlink';

/** The part of ChildProcess / process that the endpoint uses. */
export interface IpcChannel {
  send?(message: unknown, callback?: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

type Listener = Parameters<Endpoint['addEventListener']>[1];

export function ipcEndpoint(channel: IpcChannel): Endpoint {
  const wrapped = new WeakMap<Listener, (message: unknown) => void>();
  return {
    postMessage(message: unknown) {
      // A closed channel (the other side died) is reported by its exit, not here: without a callback, send would
      // emit an 'error' event instead.
      channel.send?.(message, () => undefined);
    },
    addEventListener(_type: string, listener: Listener) {
      const l = (data: unknown) => {
        const event = { data } as MessageEvent;
        if ('handleEvent' in listener) listener.handleEvent(event);
        else listener(event);
      };
      wrapped.set(listener, l);
      channel.on('message', l);
    },
    removeEventListener(_type: string, listener: Listener) {
      const l = wrapped.get(listener);
      if (!l) return;
      channel.off('message', l);
      wrapped.delete(listener);
    },
  };
}
