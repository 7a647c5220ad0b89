/**
 * Test-only faults inside an engine worker, so that the fault tests use real failures (a native abort of the whole
 * worker process) rather than stand-ins. A worker acts on a fault message only when the environment variable
 * POLYTOPE_LENS_TEST_FAULTS is "1", which the extension and the CLI never set; otherwise the message is dropped.
 */
import type { Endpoint } from 'comlink';

export const TEST_FAULTS_ENV = 'POLYTOPE_LENS_TEST_FAULTS';

/** abort: process.abort(), a native abort (SIGABRT) as onnxruntime raises it on a fatal error. */
export type TestFault = 'abort';

export interface TestFaultMessage {
  polytopeLensTestFault: TestFault;
}

export function isTestFault(data: unknown): data is TestFaultMessage {
  return typeof data === 'object' && data !== null && 'polytopeLensTestFault' in data;
}

/** Wraps the worker's endpoint to the host: fault messages never reach comlink. */
export function withTestFaults(ep: Endpoint): Endpoint {
  const enabled = process.env[TEST_FAULTS_ENV] === '1';
  const wrapped = new WeakMap<object, (ev: MessageEvent) => void>();
  return {
    postMessage: ep.postMessage.bind(ep),
    addEventListener(type, listener) {
      const l = (ev: MessageEvent) => {
        if (isTestFault(ev.data)) {
          if (enabled && ev.data.polytopeLensTestFault === 'abort') process.abort();
          return;
        }
        if ('handleEvent' in listener) listener.handleEvent(ev);
        else listener(ev);
      };
      wrapped.set(listener, l);
      ep.addEventListener(type, l as Parameters<Endpoint['addEventListener']>[1]);
    },
    removeEventListener(type, listener) {
      const l = wrapped.get(listener);
      if (!l) return;
      ep.removeEventListener(type, l as Parameters<Endpoint['removeEventListener']>[1]);
      wrapped.delete(listener);
    },
  };
}
