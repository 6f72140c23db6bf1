/**
 * tcp-vitals: see and steer what the Linux kernel does with your TCP
 * connections.
 */
export { constants, getsockopt, setsockopt, queues, socketCookie } from './sockopt';
export type { Queues } from './sockopt';
export { tcpInfo, decodeTcpInfo, TCP_STATES, TCPI_OPT } from './tcpinfo';
export type { TcpInfo, TcpState } from './tcpinfo';
export { setOptions, getOptions } from './options';
export type { SocketOptions } from './options';
export type { Target } from './fd';
export type { SystemError, PeerGoneError, DeathReason } from './errors';
