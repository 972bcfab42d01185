"""Output: publish the audited marts (write-audit-publish), and the workloads a night
produces besides them (ML training sets, the redacted archive, user features, the KB
index, the HTML report). ``workload`` defines the protocol and imports none of them."""
