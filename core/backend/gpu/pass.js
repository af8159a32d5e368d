// The browser half of the GPU backend's pass encoding (pass_js.go): encode one compute pass from the
// commands Go keeps here, so that a pass costs one call from WebAssembly instead of three per
// dispatch. Loaded by the page (importScripts or a <script>) before the engine starts.
'use strict';

(() => {
  const offset = new Uint32Array(1); // the dynamic offset of the uniform slot, reused
  // commands: [pipeline, bindGroup, uniformOffset, x, y, z] per dispatch; n: how many to encode;
  // timer: an emc2PassTimer to time the pass on the GPU's clock, or undefined.
  globalThis.emc2EncodePass = (encoder, commands, n, timer) => {
    const pass = encoder.beginComputePass(timer ? { timestampWrites: timer.writes } : undefined);
    for (let i = 0; i < n; i++) {
      const [pipeline, group, off, x, y, z] = commands[i];
      offset[0] = off;
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group, offset, 0, 1);
      pass.dispatchWorkgroups(x, y, z);
    }
    pass.end();
    if (timer) timer.resolve(encoder);
  };

  // emc2PassTimer times one pass at a time with two timestamp queries (the device must have been
  // created with 'timestamp-query'): the pass writes them, resolve() copies them where
  // nanoseconds() reads them once the work has run.
  globalThis.emc2PassTimer = (device) => {
    const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
    const resolved = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const read = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    return {
      writes: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 },
      resolve(encoder) {
        encoder.resolveQuerySet(querySet, 0, 2, resolved, 0);
        encoder.copyBufferToBuffer(resolved, 0, read, 0, 16);
      },
      async nanoseconds() {
        await read.mapAsync(GPUMapMode.READ);
        const [start, end] = new BigUint64Array(read.getMappedRange());
        read.unmap();
        return Number(end - start);
      },
    };
  };
})();
