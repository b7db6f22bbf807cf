/** The control socket: fail2ban's client/server wire protocol (pickle + `<F2B_END_COMMAND>` framing). */
export { PickleError, PICKLE_PROTOCOL, decodePickle, encodePickle, type PickleLimits } from './pickle.js';
export { CLOSE, DEFAULT_MAX_MESSAGE, END, FrameReader, frame, type FrameEvent } from './frame.js';
export { ControlServer, ControlServerError, PyExceptionError, toPyException, type ControlHandler, type ControlServerOptions, type ControlServerStats } from './server.js';
export {
  ControlClient,
  ControlSocketError,
  sendCommand,
  socketErrorText,
  type ControlClientOptions,
  type ControlReply,
  type ControlSocketErrorKind,
  type SocketAccess,
} from './client.js';
