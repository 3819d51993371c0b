"""Published subtasks of the evaluation benchmarks (facts from the Nova evaluation docs)."""

from __future__ import annotations

SUBTASKS: dict[str, tuple[str, ...]] = {
    "mmlu": tuple(
        """abstract_algebra anatomy astronomy business_ethics clinical_knowledge college_biology
        college_chemistry college_computer_science college_mathematics college_medicine college_physics
        computer_security conceptual_physics econometrics electrical_engineering elementary_mathematics
        formal_logic global_facts high_school_biology high_school_chemistry high_school_computer_science
        high_school_european_history high_school_geography high_school_government_and_politics
        high_school_macroeconomics high_school_mathematics high_school_microeconomics high_school_physics
        high_school_psychology high_school_statistics high_school_us_history high_school_world_history
        human_aging human_sexuality international_law jurisprudence logical_fallacies machine_learning
        management marketing medical_genetics miscellaneous moral_disputes moral_scenarios nutrition
        philosophy prehistory professional_accounting professional_law professional_medicine
        professional_psychology public_relations security_studies sociology us_foreign_policy virology
        world_religions""".split()
    ),
    "bbh": tuple(
        """boolean_expressions causal_judgement date_understanding disambiguation_qa dyck_languages
        formal_fallacies geometric_shapes hyperbaton logical_deduction_five_objects
        logical_deduction_seven_objects logical_deduction_three_objects movie_recommendation
        multistep_arithmetic_two navigate object_counting penguins_in_a_table
        reasoning_about_colored_objects ruin_names salient_translation_error_detection snarks
        sports_understanding temporal_sequences tracking_shuffled_objects_five_objects
        tracking_shuffled_objects_seven_objects tracking_shuffled_objects_three_objects web_of_lies
        word_sorting""".split()
    ),
    "math": (
        "algebra", "counting_and_probability", "geometry", "intermediate_algebra",
        "number_theory", "prealgebra", "precalculus",
    ),
    "strong_reject": ("dangerous_or_sensitive_topics", "offensive_language"),
    "mmmu": tuple(
        """accounting agriculture architecture_and_engineering art art_theory basic_medical_science
        biology chemistry clinical_medicine computer_science design economics electronics
        energy_and_power finance geography history literature manage marketing materials math
        mechanical_engineering music pharmacy physics psychology public_health sociology""".split()
    ),
}
