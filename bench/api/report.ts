// Writes the "## API" section of docs/benchmarks.md. Other benchmarks own other sections of the
// same file: the file is re-read right before writing and only our section is replaced (or
// appended), from its heading to the next "## " heading.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const HEADING = '## API';

export function writeApiSection(repoRoot: string, body: string): string {
  const file = path.join(repoRoot, 'docs', 'benchmarks.md');
  mkdirSync(path.dirname(file), { recursive: true });
  const section = `${HEADING}\n\n${body.trim()}\n`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  let next: string;
  if (!current.trim()) {
    next = `# Benchmarks\n\n${section}`;
  } else {
    const lines = current.split('\n');
    const start = lines.findIndex((l) => l.trim() === HEADING);
    if (start < 0) {
      next = `${current.replace(/\n*$/, '')}\n\n${section}`;
    } else {
      let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
      if (end < 0) end = lines.length;
      const before = lines.slice(0, start).join('\n').replace(/\n*$/, '');
      const after = lines.slice(end).join('\n').replace(/^\n*/, '');
      next = `${before ? `${before}\n\n` : ''}${section}${after ? `\n${after}` : ''}`;
      if (!next.endsWith('\n')) next += '\n';
    }
  }
  writeFileSync(file, next);
  return file;
}
