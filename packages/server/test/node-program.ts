import { spawn } from 'node:child_process';

/**
 * Runs `program` (an ES module's text) in a new node process with no NODE_OPTIONS and no
 * GLIBC_TUNABLES, so malloc and V8 start as glibc and node set them; answers the JSON it printed.
 */
export function runNodeProgram<T>(program: string, nodeFlags: readonly string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, '--input-type=module', '-e', program], {
      env: { ...process.env, NODE_OPTIONS: '', GLIBC_TUNABLES: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out.trim()) as T) : reject(new Error(`exited ${code}: ${out}`)),
    );
  });
}
