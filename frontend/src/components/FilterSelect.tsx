/** One filter of a list page: a labelled select whose empty value means "no filter". Options
 * are values shown as they are, or [value, label] pairs. */
export function FilterSelect({
  label,
  value,
  onChange,
  options,
  anyLabel = "any",
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: readonly (string | readonly [string, string])[];
  anyLabel?: string;
}) {
  return (
    <label>
      <span>{label}</span>
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{anyLabel}</option>
        {options.map((option) => {
          const [optionValue, text] = typeof option === "string" ? [option, option] : option;
          return (
            <option key={optionValue} value={optionValue}>
              {text}
            </option>
          );
        })}
      </select>
    </label>
  );
}
