// The moto_server launcher lives in lab/ because `meshtrust lab` starts one at run time too.
export {
  killMotoServerNow,
  type MotoServer,
  MotoServerError,
  startMotoServer,
} from '../../lab/moto-server.js';
