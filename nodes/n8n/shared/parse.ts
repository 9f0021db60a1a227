/** What users type into a node is read the same way on both platforms: the engine's helpers. */
export { jsonObject, nameList } from '../../../lib';
