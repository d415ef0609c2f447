/**
 * The commands in what the CLI prints for a person (lib/cli/render.ts): a
 * line `<indent>$ COMMAND`, and for a here-document its further lines as they
 * are, through the terminator. What an engineer selects and pastes.
 */
export function printedCommands(text: string): string[] {
  const lines = text.split('\n');
  const commands: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const first = /^ +\$ (.*)$/.exec(lines[i]!)?.[1];
    if (first === undefined) continue;
    const terminator = /<<'([A-Za-z0-9_]+)'$/.exec(first)?.[1];
    if (terminator === undefined) {
      commands.push(first);
      continue;
    }
    const end = lines.indexOf(terminator, i + 1);
    if (end === -1) throw new Error(`here-document without its terminator line after output line ${i + 1}`);
    commands.push([first, ...lines.slice(i + 1, end + 1)].join('\n'));
    i = end;
  }
  return commands;
}
