"""The credentials domain's use cases, as the domains above it call them.

Each lives in the module of its concern; this module names them in one place:

- ``catalogue``: credentials, requirement sets and their versions, the catalogue file;
- ``readiness``: requirements judged for many students (``facts`` gathers what they know);
- ``evidence``: eligibility evidence, submitted and reviewed;
- ``certificates``: issued on a verdict, superseded, revoked, and verified by anyone.
"""

from lms.credentials import files, rules
from lms.credentials.catalogue import (
    CONFIDENCE_LEVELS,
    NoRequirements,
    catalog_problems,
    current_requirement_set,
    get_credential,
    get_credential_by_code,
    list_credentials,
    read_catalog,
    required_module_ids,
    save_requirements,
    sync_catalog,
    with_requirements,
)
from lms.credentials.certificates.codes import new_certificate_code, normalise_code
from lms.credentials.certificates.expiry import notify_expiring
from lms.credentials.certificates.lifecycle import (
    add_months,
    auto_issue_settings,
    certificate_snapshot,
    issue_certificate,
    issue_if_ready,
    issue_to_ready_students,
    revoke_certificate,
    set_auto_issue,
)
from lms.credentials.certificates.roster import CertificateRoster, certificate_roster
from lms.credentials.certificates.standing import (
    certificate_register_select,
    certificates_of,
    get_certificate,
    get_certificate_by_code,
    latest_certificates,
)
from lms.credentials.evidence import (
    PendingEvidence,
    Upload,
    decide_evidence,
    evidence_file,
    evidence_months,
    evidence_of,
    get_evidence,
    pending_evidence_of,
    submit_evidence,
)
from lms.credentials.facts import gather_facts
from lms.credentials.readiness import (
    Judgement,
    evaluate_readiness,
    information_outcomes,
    judge_readiness,
    judge_readiness_in_batches,
)

__all__ = [
    "notify_expiring",
    "CONFIDENCE_LEVELS",
    "CertificateRoster",
    "certificate_roster",
    "Judgement",
    "NoRequirements",
    "PendingEvidence",
    "Upload",
    "add_months",
    "auto_issue_settings",
    "catalog_problems",
    "certificate_register_select",
    "certificate_snapshot",
    "certificates_of",
    "current_requirement_set",
    "decide_evidence",
    "evaluate_readiness",
    "evidence_file",
    "evidence_months",
    "evidence_of",
    "files",
    "gather_facts",
    "get_certificate",
    "get_certificate_by_code",
    "get_credential",
    "get_credential_by_code",
    "get_evidence",
    "information_outcomes",
    "issue_certificate",
    "issue_if_ready",
    "issue_to_ready_students",
    "judge_readiness",
    "judge_readiness_in_batches",
    "latest_certificates",
    "list_credentials",
    "new_certificate_code",
    "normalise_code",
    "pending_evidence_of",
    "read_catalog",
    "required_module_ids",
    "revoke_certificate",
    "rules",
    "save_requirements",
    "set_auto_issue",
    "submit_evidence",
    "sync_catalog",
    "with_requirements",
]
