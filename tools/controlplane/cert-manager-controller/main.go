// cert-manager's controller for the test control plane, run out of cluster.
//
// cert-manager's own main package (cmd/controller) is a nested Go module that the Go module
// proxy does not serve, while the controllers themselves live in the main module
// (github.com/cert-manager/cert-manager/pkg/controller/...). This small main wires the
// controllers a CA or self-signed issuer needs, the way cmd/controller/app does: one
// ContextFactory, each registered controller built from it, then the shared informers
// started. No webhook, no ACME, no ingress/gateway shims.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"k8s.io/klog/v2"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	"github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	crca "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	crselfsigned "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	"github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	"github.com/cert-manager/cert-manager/pkg/controller/issuers"
	logf "github.com/cert-manager/cert-manager/pkg/logs"

	// Issuer types the issuers/clusterissuers controllers can set up.
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster to manage")
	clusterResourceNamespace := flag.String("cluster-resource-namespace", "cert-manager", "namespace of ClusterIssuer secrets")
	healthAddress := flag.String("health-address", "127.0.0.1:0", "address of the /healthz endpoint")
	klog.InitFlags(nil)
	flag.Parse()
	logf.InitLogs()

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ctx = logf.NewContext(ctx, klog.Background(), "cert-manager-controller")

	factory, err := controllerpkg.NewContextFactory(ctx, controllerpkg.ContextOptions{
		Kubeconfig:         *kubeconfig,
		KubernetesAPIQPS:   50,
		KubernetesAPIBurst: 100,
		IssuerOptions: controllerpkg.IssuerOptions{
			ClusterResourceNamespace: *clusterResourceNamespace,
		},
		CertificateOptions: controllerpkg.CertificateOptions{
			// cert-manager defaults to 1h..32h; a test wants a failed request retried soon.
			CertificateRequestMinimumBackoffDuration: 5 * time.Second,
			CertificateRequestMaximumBackoffDuration: time.Minute,
		},
		ACMEOptions: controllerpkg.ACMEOptions{DNS01CheckRetryPeriod: 10 * time.Second},
	})
	if err != nil {
		klog.ErrorS(err, "building the controller context")
		os.Exit(1)
	}

	names := []string{
		issuers.ControllerName, clusterissuers.ControllerName,
		trigger.ControllerName, issuing.ControllerName, keymanager.ControllerName,
		requestmanager.ControllerName, readiness.ControllerName, revisionmanager.ControllerName,
		approver.ControllerName, crca.CRControllerName, crselfsigned.CRControllerName,
	}
	known := controllerpkg.Known()
	var wg sync.WaitGroup
	for _, name := range names {
		construct, ok := known[name]
		if !ok {
			klog.ErrorS(nil, "controller not registered", "controller", name)
			os.Exit(1)
		}
		c, err := construct(factory)
		if err != nil {
			klog.ErrorS(err, "constructing controller", "controller", name)
			os.Exit(1)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Run(2, ctx); err != nil {
				klog.ErrorS(err, "controller failed", "controller", name)
				os.Exit(1)
			}
		}()
	}

	// Informers are requested while the controllers are constructed; start them after.
	shared, err := factory.Build()
	if err != nil {
		klog.ErrorS(err, "building the shared context")
		os.Exit(1)
	}
	shared.KubeSharedInformerFactory.Start(ctx.Done())
	shared.SharedInformerFactory.Start(ctx.Done())
	shared.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())

	ln, err := net.Listen("tcp", *healthAddress)
	if err != nil {
		klog.ErrorS(err, "listening for /healthz", "address", *healthAddress)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "healthz listening on http://%s/healthz\n", ln.Addr())
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	go func() { _ = http.Serve(ln, mux) }()

	wg.Wait()
	klog.InfoS("controllers stopped")
}
