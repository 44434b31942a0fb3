import { attachCommand } from './session.mapper';

const defaultSocket = { tmuxSocket: '/tmp/tmux-1000/default', tmuxSocketExplicit: false };
const socket = (tmuxSocket: string) => ({ tmuxSocket, tmuxSocketExplicit: true });

describe('attachCommand (§4.6)', () => {
  it('is the plain command on the default socket, with the window when one was asked', () => {
    expect(attachCommand('mas-ebef3e29', defaultSocket)).toBe(
      'tmux attach-session -t mas-ebef3e29',
    );
    expect(attachCommand('mas-ebef3e29', defaultSocket, 'unit1')).toBe(
      'tmux attach-session -t mas-ebef3e29:unit1',
    );
  });

  it('names a safe socket bare and single-quotes any other path', () => {
    expect(attachCommand('mas-ebef3e29', socket('/tmp/a-b/s.sock'))).toBe(
      'tmux -S /tmp/a-b/s.sock attach-session -t mas-ebef3e29',
    );
    expect(attachCommand('mas-ebef3e29', socket("/tmp/it's here"), '2')).toBe(
      "tmux -S '/tmp/it'\\''s here' attach-session -t mas-ebef3e29:2",
    );
  });
});
