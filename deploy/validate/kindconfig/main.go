// kindconfig-check reads a kind cluster configuration the way `kind create
// cluster --config` does (kind's own v1alpha4 types, yaml decoding with unknown
// fields rejected) and applies the checks kind makes before it creates nodes.
// A kind config is not a Kubernetes object, so kubeconform cannot check it.
//
//	kindconfig-check FILE...
//
// Exit status 0 when every file is valid, 1 otherwise; one line per problem.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"

	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
)

// pinnedImage: a node image with a tag and a digest, so the cluster's
// Kubernetes version is the one the manifests were validated against.
var pinnedImage = regexp.MustCompile(`^kindest/node:v[0-9]+\.[0-9]+\.[0-9]+@sha256:[0-9a-f]{64}$`)

func check(path string) []string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return []string{err.Error()}
	}
	var tm v1alpha4.TypeMeta
	if err := yaml.Unmarshal(raw, &tm); err != nil {
		return []string{fmt.Sprintf("not YAML: %v", err)}
	}
	if tm.Kind != "Cluster" || tm.APIVersion != "kind.x-k8s.io/v1alpha4" {
		return []string{fmt.Sprintf("kind/apiVersion is %q/%q, want Cluster/kind.x-k8s.io/v1alpha4", tm.Kind, tm.APIVersion)}
	}
	var cfg v1alpha4.Cluster
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true) // what kind's loader does: unknown fields are errors
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return []string{err.Error()}
	}

	var problems []string
	controlPlanes := 0
	type hostBinding struct {
		addr  string
		port  int32
		proto v1alpha4.PortMappingProtocol
	}
	seen := map[hostBinding]bool{}
	for i, n := range cfg.Nodes {
		switch n.Role {
		case v1alpha4.ControlPlaneRole:
			controlPlanes++
		case v1alpha4.WorkerRole:
		default:
			problems = append(problems, fmt.Sprintf("nodes[%d].role: %q is neither control-plane nor worker", i, n.Role))
		}
		if n.Image != "" && !pinnedImage.MatchString(n.Image) {
			problems = append(problems, fmt.Sprintf("nodes[%d].image: %q is not kindest/node:vX.Y.Z@sha256:<digest>", i, n.Image))
		}
		for j, m := range n.ExtraPortMappings {
			where := fmt.Sprintf("nodes[%d].extraPortMappings[%d]", i, j)
			if m.ContainerPort < 1 || m.ContainerPort > 65535 {
				problems = append(problems, fmt.Sprintf("%s.containerPort: %d out of range", where, m.ContainerPort))
			}
			if m.HostPort < 0 || m.HostPort > 65535 {
				problems = append(problems, fmt.Sprintf("%s.hostPort: %d out of range", where, m.HostPort))
			}
			switch m.Protocol {
			case "", v1alpha4.PortMappingProtocolTCP, v1alpha4.PortMappingProtocolUDP, v1alpha4.PortMappingProtocolSCTP:
			default:
				problems = append(problems, fmt.Sprintf("%s.protocol: %q is not TCP, UDP or SCTP", where, m.Protocol))
			}
			proto := m.Protocol
			if proto == "" {
				proto = v1alpha4.PortMappingProtocolTCP
			}
			b := hostBinding{m.ListenAddress, m.HostPort, proto}
			if m.HostPort != 0 && seen[b] {
				problems = append(problems, fmt.Sprintf("%s: host port %d/%s bound twice", where, m.HostPort, proto))
			}
			seen[b] = true
		}
	}
	if controlPlanes < 1 {
		problems = append(problems, "nodes: no control-plane node")
	}
	return problems
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kindconfig-check FILE...")
		os.Exit(2)
	}
	failed := false
	for _, path := range os.Args[1:] {
		problems := check(path)
		for _, p := range problems {
			fmt.Printf("%s: %s\n", path, p)
		}
		if len(problems) > 0 {
			failed = true
		} else {
			fmt.Printf("%s: valid kind configuration\n", path)
		}
	}
	if failed {
		os.Exit(1)
	}
}
