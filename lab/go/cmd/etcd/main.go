// Command etcd is etcd's own server: go.etcd.io/etcd/server/v3 ships the server as a library
// (etcdmain) and its main package lives in another module, so this is that main, nothing more.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
