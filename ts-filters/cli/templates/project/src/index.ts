// The filters this project exports. envoy.yaml's chain names them by their `name`.

export { greeting } from './greeting';
