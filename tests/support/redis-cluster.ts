// A real Redis Cluster for a test file: 3 masters and 3 replicas on spare ports of 127.0.0.1, in a
// temp folder, without persistence (tools/lib/redis-cluster.ts has the launcher; the fleet harness
// and `tools/redis-cluster.ts` use the same one). `stop()` in afterAll.
//
//   const cluster = await startRedisCluster();
//   const config = testConfig({ REDIS_URL: cluster.url });   // redis+cluster://127.0.0.1:p1,...
//   await cluster.killMaster({ key: `{${config.redisPrefix}}` });  // the master holding the queues
import {
  startRedisCluster as start,
  type RedisClusterHandle,
  type RedisClusterOptions,
} from '../../tools/lib/redis-cluster.ts';

export type { ClusterNodeInfo, RedisClusterHandle } from '../../tools/lib/redis-cluster.ts';

export function startRedisCluster(opts: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  return start({ masters: 3, replicasPerMaster: 1, bind: '127.0.0.1', ...opts });
}
