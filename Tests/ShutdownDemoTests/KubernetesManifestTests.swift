import Foundation
import Patterns
import Testing

@testable import shutdown_demo

/// `docs/kubernetes/` is what a reader applies to their own cluster; no cluster is reachable from
/// the tests, so these check what can be checked without one: that the files parse, that the
/// container runs `serve` with arguments `serve` accepts, that the forwarder in front of it (serve
/// listens on the pod's loopback only) carries the probes and the Service to it and outlives it,
/// and that the numbers satisfy the rule that keeps a rolling update from losing requests:
///
///     terminationGracePeriodSeconds >= preStop + drain delay + grace + cleanup + forwarder's linger
///
/// (Kubernetes starts its clock at preStop and sends SIGKILL when it runs out.)
@Suite struct KubernetesManifestTests {
  /// How long the Service's endpoints and the nodes' proxies keep routing to a pod after its
  /// deletion starts; the preStop sleep must cover it.
  static let endpointLag = Duration.seconds(2)

  /// The time allowed after the grace period: the shutdown library's default budgets for the
  /// cleanup steps and the persistence hooks. serve's own work after its grace period (abort what
  /// is left, close, save the counters) has no timer and takes milliseconds, so these bound it.
  static let cleanup = ShutdownConfiguration().cleanupBudget + ShutdownConfiguration().persistenceBudget

  static let directory = PackagePaths.root.appendingPathComponent("docs/kubernetes")

  struct ManifestError: Error, CustomStringConvertible {
    var description: String
  }

  struct Deployment {
    var pod: YAMLNode
    var container: YAMLNode
    var serve: ParsedOptions
    /// The `forward` sidecar: socat from the pod's address to serve on 127.0.0.1.
    var forwarder: YAMLNode
    /// socat's two addresses, each split at ":" and "," (`TCP4-LISTEN:8080,bind=…` gives
    /// `["TCP4-LISTEN", "8080", "bind=…"]`).
    var listen: [String]
    var target: [String]

    /// The port the pod's address answers on: the probes and the Service must use it.
    var podPort: Int? { listen.count > 1 ? Int(listen[1]) : nil }
  }

  static func load(_ name: String) throws -> [YAMLNode] {
    try YAMLSubset.documents(String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8))
  }

  static func deployment() throws -> Deployment {
    let documents = try load("deployment.yaml")
    try #require(documents.count == 1)
    let deployment = documents[0]
    #expect(deployment["kind"]?.string == "Deployment")
    let pod = try #require(deployment[path: "spec", "template", "spec"])
    let container = try #require(pod[path: "containers", 0])
    let arguments = try #require(container["args"]?.strings, "args must be a list of strings")
    // The arguments as serve itself parses them: a typo or an unknown option fails here.
    let parsed = ShutdownDemo.tool.parseOptions(arguments, for: ServeCommand.command)
    guard case .success(let serve) = parsed else {
      throw ManifestError(description: "serve rejects the container's args \(arguments): \(parsed)")
    }
    let forwarder = try #require(pod[path: "initContainers", 0], "the forward sidecar")
    let script = try #require(forwarder["args"]?.strings, "the forwarder's args must be strings")
    try #require(script.count == 1, "one shell script: \(script)")
    // "socat <listen> <target> & trap … TERM; wait": socat's two addresses follow its name.
    let words = script[0].split(separator: " ").map(String.init)
    try #require(
      words.count > 3 && words[0] == "socat" && words[3] == "&", "socat <listen> <target> &: \(words)")
    let split = words[1...2].map { $0.split(whereSeparator: { ":,".contains($0) }).map(String.init) }
    return Deployment(
      pod: pod, container: container, serve: serve, forwarder: forwarder, listen: split[0], target: split[1])
  }

  /// The seconds of `sleep N` in the preStop hook.
  static func preStopSleep(_ container: YAMLNode) throws -> Duration {
    let command = try #require(container[path: "lifecycle", "preStop", "exec", "command"]?.strings)
    try #require(
      command.count == 2 && command[0] == "sleep", "preStop must be [\"sleep\", \"N\"]: \(command)")
    return .seconds(try #require(Int(command[1])))
  }

  /// The seconds the forwarder waits on SIGTERM before it stops socat (`trap "sleep N; …"`).
  static func forwarderLinger(_ deployment: Deployment) throws -> Duration {
    let script = try #require(deployment.forwarder["args"]?.strings?.first)
    let range = try #require(script.range(of: "trap \"sleep "), "the forwarder's trap: \(script)")
    return .seconds(try #require(Int(script[range.upperBound...].prefix { $0.isNumber })))
  }

  /// The forwarder gets SIGTERM only once serve has exited, so its linger comes on top of the rest.
  @Test func terminationGracePeriod_coversPreStop_drainDelay_grace_cleanup_andTheForwarder() throws {
    let deployment = try Self.deployment()
    let preStop = try Self.preStopSleep(deployment.container)
    let budget = Duration.seconds(try #require(deployment.pod["terminationGracePeriodSeconds"]?.int))
    let needed =
      preStop + deployment.serve.duration("drain-delay") + deployment.serve.duration("grace") + Self.cleanup
      + (try Self.forwarderLinger(deployment))
    #expect(budget >= needed, "terminationGracePeriodSeconds \(budget) < \(needed) needed")
  }

  @Test func preStopSleep_coversTheEndpointLag() throws {
    let deployment = try Self.deployment()
    #expect(try Self.preStopSleep(deployment.container) >= Self.endpointLag)
  }

  @Test func serve_listensOnTheLoopbackOnly_andDeclaresNoPort() throws {
    let deployment = try Self.deployment()
    #expect(deployment.serve.choice("host") == "127.0.0.1")
    // A declared port would say the pod's address answers there; only the forwarder's does.
    #expect(deployment.container["ports"] == nil)
  }

  /// An init container that restarts Always is a native sidecar: the kubelet stops it only after
  /// serve has exited, so it relays serve's whole drain. Bound to the pod's address, not 0.0.0.0.
  @Test func forwarder_isANativeSidecar_fromThePodAddress_toServe() throws {
    let deployment = try Self.deployment()
    let forwarder = deployment.forwarder
    #expect(forwarder["restartPolicy"]?.string == "Always")
    #expect(forwarder["command"]?.strings == ["/usr/bin/tini", "--", "/bin/sh", "-c"])
    #expect(deployment.listen.first == "TCP4-LISTEN", "\(deployment.listen)")
    #expect(deployment.listen.contains("bind=$POD_IP"), "\(deployment.listen)")
    #expect(deployment.listen.contains("fork"), "one relay per connection: \(deployment.listen)")
    let podIP = try #require(forwarder[path: "env", 0])
    #expect(podIP["name"]?.string == "POD_IP")
    #expect(podIP[path: "valueFrom", "fieldRef", "fieldPath"]?.string == "status.podIP")
    #expect(deployment.target == ["TCP4", "127.0.0.1", String(deployment.serve.integer("port"))])
    let podPort = try #require(deployment.podPort)
    #expect(forwarder[path: "ports", 0, "containerPort"]?.int == podPort)
    // SIGTERM reaches the shell (tini's child), which lets the relays finish before stopping socat.
    let script = try #require(forwarder["args"]?.strings?.first)
    #expect(script.hasSuffix("& trap \"sleep 1; kill $!\" TERM; wait"), "\(script)")
  }

  @Test func probes_askReadyAndHealth_throughTheForwarder() throws {
    let deployment = try Self.deployment()
    let port = try #require(deployment.podPort)
    for (probe, path) in [("readinessProbe", "/ready"), ("livenessProbe", "/health")] {
      let get = try #require(deployment.container[path: probe, "httpGet"], "\(probe) must be an httpGet")
      #expect(get["path"]?.string == path, "\(probe)")
      #expect(get["port"]?.int == port, "\(probe)")
    }
  }

  @Test func service_selectsThePods_andTargetsTheForwarder() throws {
    let deployment = try Self.deployment()
    let documents = try Self.load("service.yaml")
    try #require(documents.count == 1)
    let service = documents[0]
    #expect(service["kind"]?.string == "Service")
    let selector = try #require(service[path: "spec", "selector"])
    let labels = try #require(
      try Self.load("deployment.yaml")[0][path: "spec", "template", "metadata", "labels"])
    #expect(selector == labels)
    let port = try #require(deployment.podPort)
    #expect(service[path: "spec", "ports", 0, "targetPort"]?.int == port)
  }

  @Test func kindCluster_mapsTheNodePort_toLoopbackOnly() throws {
    let nodePort = try #require(try Self.load("service.yaml")[0][path: "spec", "ports", 0, "nodePort"]?.int)
    let documents = try Self.load("kind-cluster.yaml")
    let mapping = try #require(documents.first?[path: "nodes", 0, "extraPortMappings", 0])
    #expect(mapping["containerPort"]?.int == nodePort)
    #expect(mapping["listenAddress"]?.string == "127.0.0.1", "load talks to 127.0.0.1 only")
  }

  @Test func dockerfile_buildsStatically_andRunsServeUnderAnInit_withSocatForTheForwarder() throws {
    let text = try String(contentsOf: Self.directory.appendingPathComponent("Dockerfile"), encoding: .utf8)
    let lines = splitLines(text).filter { !$0.hasPrefix("#") }
    let stages = lines.filter { $0.hasPrefix("FROM ") }
    #expect(stages.first == "FROM swift:6.3-noble AS build", "\(stages)")
    #expect(stages.count == 2, "a build stage and a runtime stage: \(stages)")
    #expect(text.contains("swift build -c release --product shutdown-demo --static-swift-stdlib"))
    let entrypoint = try #require(lines.first { $0.hasPrefix("ENTRYPOINT ") })
    let words = try #require(
      try JSONSerialization.jsonObject(with: Data(entrypoint.dropFirst("ENTRYPOINT ".count).utf8))
        as? [String])
    #expect(words == ["/usr/bin/tini", "--", "/usr/local/bin/shutdown-demo", "serve"])
    #expect(text.contains("apt-get install -y --no-install-recommends tini socat"))
  }

  @Test func yamlSubset_readsNesting_andRefusesWhatItDoesNotKnow() throws {
    let node = try #require(
      try YAMLSubset.documents(
        """
        # comment
        a: 1
        b:
          - name: x
            list: ["p", "q"]
          - plain
        ---
        c: "quoted"
        """
      ).first)
    #expect(node[path: "b", 0, "list"]?.strings == ["p", "q"])
    #expect(node[path: "b", 1]?.string == "plain")
    #expect(node["a"]?.int == 1)
    #expect(throws: YAMLSubsetError.self) { try YAMLSubset.documents("a: &anchor 1\n") }
    #expect(throws: YAMLSubsetError.self) { try YAMLSubset.documents("a: 1 # inline\n") }
    #expect(throws: YAMLSubsetError.self) { try YAMLSubset.documents("a:\nb: 1\n") }
    #expect(throws: YAMLSubsetError.self) { try YAMLSubset.documents("a: 1\na: 2\n") }
  }
}
