// The engine: the same Web Worker as the trainer (../worker.js, running dist/emc2.wasm), which hands
// every command it does not handle itself to the Go bridge. call() sends one {cmd} and resolves with
// the data of the event it answers with; Go runs the teaching commands one at a time, in order, so
// the answers come back in the order of the calls.
export class Engine {
  constructor(onError) {
    this.worker = new Worker('worker.js');
    this.pending = [];
    this.onError = onError;
    this.booted = new Promise((resolve, reject) => {
      this.bootResolve = resolve;
      this.bootReject = reject;
    });
    this.worker.onmessage = (e) => this.receive(e.data);
    this.worker.onerror = (e) => this.fail({ cmd: 'worker', message: e.message || 'the worker failed' });
  }

  receive({ type, data }) {
    if (type === 'booted') return this.bootResolve(data);
    if (type === 'error') return this.fail(data);
    const i = this.pending.findIndex((p) => p.expect === type);
    if (i < 0) return;
    const [p] = this.pending.splice(i, 1);
    p.resolve(data);
  }

  fail(data) {
    const i = this.pending.findIndex((p) => p.cmd === data.cmd);
    if (i >= 0) {
      const [p] = this.pending.splice(i, 1);
      p.reject(new Error(data.message));
      return;
    }
    if (data.cmd === 'engine' || data.cmd === 'worker') this.bootReject(new Error(data.message));
    this.onError?.(data);
  }

  call(cmd, args, expect, bytes) {
    return new Promise((resolve, reject) => {
      this.pending.push({ cmd, expect, resolve, reject });
      const m = { cmd, ...args };
      if (bytes) {
        m.bytes = bytes;
        this.worker.postMessage(m, [bytes.buffer]);
      } else {
        this.worker.postMessage(m);
      }
    });
  }
}
