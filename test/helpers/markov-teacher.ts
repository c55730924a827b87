// The tiny exact Markov-chain teacher now lives in the library (src/dd/toy/markov.ts, used by
// `ddar toy-joint`); tests keep importing it from here.
export { MarkovTeacher } from '../../src/dd/toy/markov.js';
