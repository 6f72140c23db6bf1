/**
 * The batch read is the one door to tcp_info (kernel/batch.ts): every caller
 * reads with the socket's SO_COOKIE, so a socket whose fd was closed behind
 * Node's back and reused by another socket is never read as the old one.
 * Regression (issue 17): the metrics reader, requestVitals() and the engine's
 * augmentation of Node's ETIMEDOUT read such an fd without the cookie and so
 * reported the new socket's reading as the old one's.
 */
import { join } from 'node:path';
import { DIST, runFdReuseChild } from './helpers/fd-reuse';
import { BatchReader, RECORD_STRIDE } from '../lib/kernel/batch';
import { FakeBinding } from './helpers/fake-binding';

test('a reused fd is refused by every reader: metrics, requestVitals, the ETIMEDOUT augmentation', () => {
  const r = runFdReuseChild(`
    const tv = require(${JSON.stringify(DIST)});
    const { ConnectionReader } = require(${JSON.stringify(join(DIST, 'integrations', 'metrics-reader'))});
    let allow = true; // b (the socket that gets a's fd number) is left unprotected
    tv.protect({ timeout: 2000, match: () => allow });
    const reader = new ConnectionReader();`, `
        tv.tcpInfo(a); // first sight: a's cookie is remembered
        const metricsBefore = reader.read().count;
        allow = false;`, `{
          reused: b !== null, metricsBefore, metricsAfter,
          vitals,
          augmented: err.reason !== undefined, diagnosis: err.diagnosis === undefined ? null : err.diagnosis.verdict,
        }`, `
        const metricsAfter = reader.read().count;
        const vitals = tv.requestVitals(a);
        const err = Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT', errno: -110, syscall: 'read' });
        a.on('error', () => {});
        a.destroy(err); // the engine augments it in _destroy, synchronously`);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({
    reused: true, metricsBefore: 1, metricsAfter: 0, vitals: null, augmented: true, diagnosis: null,
  });
});

test('an entry without a cookie is never read (EBADF), whatever the binding would return', () => {
  const fake = new FakeBinding();
  fake.readings.set(5, { state: 1, sendQueue: 7 });
  const reader = new BatchReader(fake, 2);
  reader.fds[0] = 5; reader.cookies[0] = 0n;
  reader.fds[1] = 5; reader.cookies[1] = 42n;
  reader.read(2);
  expect(fake.calls).toEqual([[-1, 5]]);
  expect(reader.at(0).errno).toBe(9);
  expect(reader.at(1)).toMatchObject({ errno: 0, sendQueue: 7 });
  reader.reserve(5, 2);
  expect(reader.capacity).toBe(8);
  expect([...reader.fds.subarray(0, 2)]).toEqual([-1, 5]);
  expect(RECORD_STRIDE % 8).toBe(0);
});
