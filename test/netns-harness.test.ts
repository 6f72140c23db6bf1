import { ADDR_B, describeNetns, fixture, NetPair } from './helpers/netns';

describeNetns('netns harness', () => {
  let pair: NetPair;
  beforeAll(() => { pair = NetPair.create(); });
  afterAll(() => pair?.destroy());

  test('a peer in B is reachable from A, and vanish() makes it silent', async () => {
    const peer = pair.spawnNode(pair.b, fixture('echo-peer.js'), [ADDR_B, '7000']);
    await peer.waitFor((m) => m.type === 'listening', 10_000);
    const probe = () => pair.exec(pair.a, process.execPath, ['-e', `
      const s = require('net').connect(7000, '${ADDR_B}');
      const t = setTimeout(() => { console.log('timeout'); process.exit(0); }, 1500);
      s.on('connect', () => { console.log('connected'); clearTimeout(t); s.destroy(); });
      s.on('error', (e) => { console.log(e.code); clearTimeout(t); });`]).trim();
    expect(probe()).toBe('connected');
    pair.vanish();
    expect(probe()).toBe('timeout');
    pair.heal();
    expect(probe()).toBe('connected');
  });
});
