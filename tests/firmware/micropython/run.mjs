// Run a Python script under MicroPython (WebAssembly port) with the given modules on its path.
// usage: node run.mjs script.py module.py... ; prints the script's stdout.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript/micropython.mjs";

const [script, ...modules] = process.argv.slice(2);
let failed = false;
const mp = await loadMicroPython({
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => { failed = true; process.stderr.write(line + "\n"); },
});
mp.FS.mkdir("/lib");
for (const m of modules) mp.FS.writeFile("/lib/" + basename(m), readFileSync(m));
try {
  mp.runPython("import sys\nsys.path.insert(0, '/lib')\n" + readFileSync(script, "utf8"));
} catch (err) {
  process.stderr.write(String(err) + "\n");
  process.exit(1);
}
process.exit(failed ? 1 : 0);
