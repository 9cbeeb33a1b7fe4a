"""The accelerator's fixed vocabularies, in the words of the source talk."""

from __future__ import annotations

from enum import StrEnum


class CapacityChoice(StrEnum):
    MAKE = "make"
    BUY = "buy"
    SHARE = "share"
    EXPERIMENT = "experiment"


class TeamHealth(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class NeedSegmentation(StrEnum):
    UNIVERSAL = "universal"
    MOSTLY_UNIVERSAL = "mostly_universal"
    MIXED = "mixed"
    VARIED = "varied"
    HIGHLY_VARIED = "highly_varied"


class CapacityArea(StrEnum):
    RECRUITMENT = "recruitment"
    SKILLS = "skills"
    CULTURE_CHANGE = "culture_change"


class ProjectMethod(StrEnum):
    AGILE = "agile"
    WATERFALL = "waterfall"
    HYBRID = "hybrid"


class Architecture(StrEnum):
    MONOLITHIC = "monolithic"
    PLATFORM = "platform"


class StanceTopic(StrEnum):
    OPEN_SOURCE_OR_COMMERCIAL = "open_source_or_commercial"
    ROLE_OF_EVIDENCE = "role_of_evidence"
    OPEN_DATA = "open_data"
    DIGITAL_BY_DEFAULT = "digital_by_default"
    NATIONAL_OR_LOCAL_SOLUTIONS = "national_or_local_solutions"
    LOCAL_DIGITAL_DECLARATION = "local_digital_declaration"


class Phase(StrEnum):
    DISCOVERY = "discovery"
    ALPHA = "alpha"
    PRIVATE_BETA = "private_beta"
    PUBLIC_BETA = "public_beta"
    LIVE = "live"
    RETIRED = "retired"
    PAUSED = "paused"
    STOPPED = "stopped"


class OutputKind(StrEnum):
    """What a project produced for others to reuse (``output_published``)."""

    USER_RESEARCH = "user_research"
    SERVICE_PATTERN = "service_pattern"
    PROTOTYPE = "prototype"
    CODE_REPOSITORY = "code_repository"
    DATA_STANDARD = "data_standard"
    GUIDANCE = "guidance"
    BENEFITS_CASE = "benefits_case"
    OTHER = "other"


class AssessedPhase(StrEnum):
    """The phases a service assessment can be held for (the end of each)."""

    ALPHA = "alpha"
    PRIVATE_BETA = "private_beta"
    PUBLIC_BETA = "public_beta"
    LIVE = "live"


class AssessmentResult(StrEnum):
    MET = "met"
    MET_WITH_CONDITIONS = "met_with_conditions"
    NOT_MET = "not_met"


class BenefitOutcome(StrEnum):
    REALISED = "realised"
    ABANDONED = "abandoned"


class ConcernCategory(StrEnum):
    DATA_ETHICS = "data_ethics"
    PRIVACY = "privacy"
    SECURITY = "security"
    DIGITAL_EXCLUSION_RURALITY = "digital_exclusion_rurality"
    DIGITAL_EXCLUSION_POVERTY = "digital_exclusion_poverty"
    DIGITAL_EXCLUSION_EDUCATIONAL_NEEDS = "digital_exclusion_educational_needs"
    LEGACY_SYSTEMS = "legacy_systems"
    INFLEXIBLE_OUTSOURCED_PROVIDERS = "inflexible_outsourced_providers"
    SKILLS = "skills"


class SupportSource(StrEnum):
    OWN_ORGANISATION = "own_organisation"
    MASTERCLASSES = "masterclasses"
    SOLACE = "solace"
    SOCITM = "socitm"
    MINISTRY = "ministry"
    LGA = "lga"
    TWENTIETH_CENTURY_SUPPLIERS = "20th_century_suppliers"
    TWENTY_FIRST_CENTURY_SUPPLIERS = "21st_century_suppliers"
    LOCALGOV_DIGITAL = "localgov_digital"


class SupportStatus(StrEnum):
    """How the programme answered a support request ("the one wish")."""

    ACKNOWLEDGED = "acknowledged"
    OFFERED = "offered"
    FULFILLED = "fulfilled"
    DECLINED = "declined"


class SessionKind(StrEnum):
    """The kinds of a cohort's sessions: the talk's interventions."""

    MEMBER_MASTERCLASS = "member_masterclass"
    ACCELERATOR_DISCUSSION = "accelerator_discussion"
    WORKSHOP = "workshop"
    SHOW_AND_TELL = "show_and_tell"
    SPONSOR_COACHING = "sponsor_coaching"
    OTHER = "other"


class AttendeeRole(StrEnum):
    """Who came to a session from a council: members, then officers from the top down."""

    LEADER = "leader"
    CABINET_MEMBER = "cabinet_member"
    SCRUTINY_MEMBER = "scrutiny_member"
    OPPOSITION_MEMBER = "opposition_member"
    CHIEF_EXECUTIVE = "chief_executive"
    DIRECTOR = "director"
    HEAD_OF_SERVICE = "head_of_service"
    SPONSOR = "sponsor"
    OFFICER = "officer"


class CorrectionReason(StrEnum):
    CLARIFICATION = "clarification"
    RECORDING_ERROR = "recording_error"
    CHANGE_OF_MIND = "change_of_mind"


class CouncilType(StrEnum):
    COUNTY = "county"
    DISTRICT = "district"
    UNITARY = "unitary"
    METROPOLITAN_BOROUGH = "metropolitan_borough"
    LONDON_BOROUGH = "london_borough"
    COMBINED_AUTHORITY = "combined_authority"


class Region(StrEnum):
    NORTH_EAST = "north_east"
    NORTH_WEST = "north_west"
    YORKSHIRE_AND_THE_HUMBER = "yorkshire_and_the_humber"
    EAST_MIDLANDS = "east_midlands"
    WEST_MIDLANDS = "west_midlands"
    EAST_OF_ENGLAND = "east_of_england"
    LONDON = "london"
    SOUTH_EAST = "south_east"
    SOUTH_WEST = "south_west"
    WALES = "wales"
    SCOTLAND = "scotland"
    NORTHERN_IRELAND = "northern_ireland"


class Pressure(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Segment(StrEnum):
    """The talk's financial-context segments (demand pressure x financial pressure)."""

    BESIEGED = "besieged"
    COST_INNOVATORS = "cost_innovators"
    FUTURE_INNOVATORS = "future_innovators"
    FAST_FOLLOWERS = "fast_followers"
    HIGH_POTENTIAL = "high_potential"


class DigitalMeaning(StrEnum):
    """The talk's five meanings of digital, each assessed at maturity level 1-5."""

    WORKING_IN_THE_OPEN = "working_in_the_open"
    AGILE_METHODS = "agile_methods"
    COLLABORATIVE_TOOLS = "collaborative_tools"
    USER_CENTRED_DESIGN = "user_centred_design"
    NEW_TECHNOLOGY = "new_technology"


class Role(StrEnum):
    ADMIN = "admin"
    PROGRAMME_MANAGER = "programme_manager"
    REVIEWER = "reviewer"
    PARTICIPANT = "participant"


#: The record's choice values that plain capitalisation would get wrong, in words.
CHOICE_WORDS = {
    "lga": "LGA",
    "solace": "Solace",
    "socitm": "Socitm",
    "localgov_digital": "LocalGov Digital",
    "20th_century_suppliers": "20th-century suppliers",
    "21st_century_suppliers": "21st-century suppliers",
    "digital_exclusion_rurality": "Digital exclusion: rurality",
    "digital_exclusion_poverty": "Digital exclusion: relative poverty",
    "digital_exclusion_educational_needs": "Digital exclusion: educational needs",
    "open_source_or_commercial": "Open source or commercial",
    "local_digital_declaration": "Local Digital Declaration",
    "ministry": "The ministry",
    "own_organisation": "Own organisation",
}
