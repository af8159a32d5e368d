// The browser half of the GPU backend's pass encoding (pass_js.go): encode one compute pass from the
// commands Go keeps here, so that a pass costs one call from WebAssembly instead of three per
// dispatch. Loaded by the page (importScripts or a <script>) before the engine starts.
'use strict';

(() => {
  const offset = new Uint32Array(1); // the dynamic offset of the uniform slot, reused
  // commands: [pipeline, bindGroup, uniformOffset, x, y, z] per dispatch; n: how many to encode.
  globalThis.emc2EncodePass = (encoder, commands, n) => {
    const pass = encoder.beginComputePass();
    for (let i = 0; i < n; i++) {
      const [pipeline, group, off, x, y, z] = commands[i];
      offset[0] = off;
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group, offset, 0, 1);
      pass.dispatchWorkgroups(x, y, z);
    }
    pass.end();
  };
})();
