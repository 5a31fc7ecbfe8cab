// Command kubelet-streaming is the streaming part of a kubelet for the lab's nodes, which run no
// kubelet: it serves /portForward/{namespace}/{pod}[/{uid}] as kubelet's server does, with
// Kubernetes' own port-forward protocol code (k8s.io/cri-streaming's portforward.ServePortForward,
// the package the kubelet and CRI runtimes serve it with), so that kube-apiserver's pods/portforward
// subresource, and `kubectl port-forward` through it, reach the lab's pods.
//
// The one thing it does differently is where a stream goes. A CRI runtime dials localhost:PORT
// inside the pod's network namespace; the lab's pods share the host's and each serves on a loopback
// address of its own, which Kubernetes sees as 10.<100+i>.a.b in status.podIP (lab-addresses.ts).
// So the pod is read from the API server, and a stream to PORT goes to 127.<100+i>.a.b:PORT.
//
// It serves HTTPS on a loopback address only and accepts a client only with a certificate of the
// cluster's client CA (kube-apiserver's --kubelet-client-certificate).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/cri-streaming/pkg/streaming/portforward"
)

// The kubelet's own defaults (--streaming-connection-idle-timeout, and the stream creation timeout
// its server is built with).
const (
	idleTimeout           = 4 * time.Hour
	streamCreationTimeout = 30 * time.Second
	dialTimeout           = 5 * time.Second
)

func main() {
	address := flag.String("address", "", "loopback address to listen on (the Node's InternalIP)")
	port := flag.Int("port", 0, "port to listen on (the Node's daemonEndpoints.kubeletEndpoint.Port)")
	certFile := flag.String("tls-cert-file", "", "serving certificate (PEM)")
	keyFile := flag.String("tls-private-key-file", "", "serving key (PEM)")
	clientCAFile := flag.String("client-ca-file", "", "CA of the client certificates accepted (kube-apiserver's)")
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig to read pods with")
	nodeName := flag.String("node-name", "", "the Node whose pods it forwards to")
	flag.Parse()

	if err := run(*address, *port, *certFile, *keyFile, *clientCAFile, *kubeconfig, *nodeName); err != nil {
		log.Fatalf("kubelet-streaming: %v", err)
	}
}

func run(address string, port int, certFile, keyFile, clientCAFile, kubeconfig, nodeName string) error {
	ip := net.ParseIP(address)
	if ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return fmt.Errorf("--address must be an IPv4 loopback address (127.0.0.0/8), got %q", address)
	}
	if port <= 0 || port > 65535 || nodeName == "" || certFile == "" || keyFile == "" || clientCAFile == "" || kubeconfig == "" {
		return errors.New("--port, --node-name, --tls-cert-file, --tls-private-key-file, --client-ca-file and --kubeconfig are required")
	}
	clientCAs, err := readCertPool(clientCAFile)
	if err != nil {
		return err
	}
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("reading %s: %w", kubeconfig, err)
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	pods := &podResolver{client: client, nodeName: nodeName}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	forward := func(w http.ResponseWriter, req *http.Request) {
		servePortForward(w, req, pods, req.PathValue("namespace"), req.PathValue("pod"), req.PathValue("uid"))
	}
	// kubelet's routes (pkg/kubelet/server/server.go): GET and POST, with or without the pod's uid.
	mux.HandleFunc("/portForward/{namespace}/{pod}", forward)
	mux.HandleFunc("/portForward/{namespace}/{pod}/{uid}", forward)

	server := &http.Server{
		Addr:    net.JoinHostPort(address, strconv.Itoa(port)),
		Handler: mux,
		TLSConfig: &tls.Config{
			MinVersion: tls.VersionTLS12,
			ClientAuth: tls.RequireAndVerifyClientCert,
			ClientCAs:  clientCAs,
			// SPDY upgrades are HTTP/1.1 only, as on kubelet's server.
			NextProtos: []string{"http/1.1"},
		},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(os.Stderr, "kubelet-streaming http: ", log.LstdFlags),
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = server.Shutdown(ctx)
		_ = server.Close()
	}()
	log.Printf("kubelet-streaming: node %s serving port-forward on https://%s", nodeName, server.Addr)
	if err := server.ListenAndServeTLS(certFile, keyFile); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func servePortForward(w http.ResponseWriter, req *http.Request, pods *podResolver, namespace, name, uid string) {
	pod, status, err := pods.resolve(req.Context(), namespace, name, uid)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	// As kubelet's getPortForward: a websocket request names its ports in the query, SPDY per stream.
	options, err := portforward.NewV4Options(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	log.Printf("port-forward to %s/%s (%s) from %s", namespace, name, pod.address, req.RemoteAddr)
	portforward.ServePortForward(w, req, pod, name, pod.uid, options, idleTimeout, streamCreationTimeout,
		portforward.SupportedProtocols)
}

// podResolver reads a pod from the API server and says where it serves.
type podResolver struct {
	client   kubernetes.Interface
	nodeName string
}

// resolvedPod is one pod's PortForwarder: every stream goes to its loopback address.
type resolvedPod struct {
	uid     string
	address string
}

func (r *podResolver) resolve(ctx context.Context, namespace, name, uid string) (*resolvedPod, int, error) {
	pod, err := r.client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, http.StatusNotFound, errors.New("pod does not exist")
	}
	if err != nil {
		return nil, http.StatusInternalServerError, fmt.Errorf("reading pod %s/%s: %w", namespace, name, err)
	}
	// kubelet knows only the pods bound to its node, and answers the same for a uid that is not theirs.
	if pod.Spec.NodeName != r.nodeName || (uid != "" && string(pod.UID) != uid) {
		return nil, http.StatusNotFound, errors.New("pod not found")
	}
	address, err := podLoopbackAddress(pod.Status.PodIP)
	if err != nil {
		return nil, http.StatusServiceUnavailable, fmt.Errorf("pod %s/%s: %w", namespace, name, err)
	}
	return &resolvedPod{uid: string(pod.UID), address: address}, http.StatusOK, nil
}

// podLoopbackAddress is lab-addresses.ts's podLoopbackAddress: 10.<100+i>.a.b -> 127.<100+i>.a.b.
func podLoopbackAddress(podIP string) (string, error) {
	ip := net.ParseIP(podIP).To4()
	if ip == nil || ip[0] != 10 || ip[1] <= 100 || ip[1] >= 200 {
		return "", fmt.Errorf("no lab pod address in status.podIP (%q)", podIP)
	}
	return net.IPv4(127, ip[1], ip[2], ip[3]).String(), nil
}

// PortForward copies one stream to and from the pod's address, as a CRI runtime copies it to
// localhost:port in the pod's network namespace. A port nobody listens on is the caller's error.
func (p *resolvedPod) PortForward(ctx context.Context, _ string, _ string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	dialer := net.Dialer{Timeout: dialTimeout}
	target := net.JoinHostPort(p.address, strconv.Itoa(int(port)))
	conn, err := dialer.DialContext(ctx, "tcp4", target)
	if err != nil {
		return fmt.Errorf("failed to connect to %s: %w", target, err)
	}
	defer conn.Close()
	var wait sync.WaitGroup
	wait.Add(1)
	go func() {
		defer wait.Done()
		_, _ = io.Copy(conn, stream)
		// The client finished sending: half-close, so the pod sees end of input and can answer.
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.CloseWrite()
		}
	}()
	_, err = io.Copy(stream, conn)
	if err != nil && !isClosed(err) {
		return fmt.Errorf("copying from %s: %w", target, err)
	}
	_ = stream.Close()
	wait.Wait()
	return nil
}

func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || strings.Contains(err.Error(), "use of closed")
}

func readCertPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", file)
	}
	return pool, nil
}
