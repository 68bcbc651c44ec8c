import type { DashboardOptions } from '@uppy/dashboard';
import type { UploaderConfig } from '../../src/web/uploader/uploader-config-types.js';
import type { Strings } from './strings.js';

type MetaField = Extract<NonNullable<DashboardOptions<any, any>['metaFields']>, unknown[]>[number];

/** Uppy renders a field's label with for="uppy-Dashboard-FileCard-input-<id>"; custom inputs take that id. */
const inputId = (id: string) => `uppy-Dashboard-FileCard-input-${id}`;

export function expirationLabel(s: Strings, choice: { unit: string; count: number }): string {
  return s.t(`expiration.${choice.unit}`, { count: choice.count });
}

/** A drop-down field of the per-file card: `choices` are [value, label] pairs. */
function selectField(id: string, name: string, choices: Array<[string, string]>): MetaField {
  return {
    id,
    name,
    render: ({ value, onChange, fieldCSSClasses, form }, h) =>
      h('select', {
        id: inputId(id),
        class: fieldCSSClasses.text,
        form,
        value,
        onChange: (event: Event) => onChange((event.target as HTMLSelectElement).value),
      },
      ...choices.map(([optionValue, label]) => h('option', { value: optionValue }, label))),
  };
}

/** The fields of the per-file card (opened by clicking or touching a preview): the API's parameters. */
export function metaFieldsFor(config: UploaderConfig, s: Strings): MetaField[] {
  const fields: MetaField[] = [
    { id: 'title', name: s.t('field.title'), placeholder: s.t('field.title-placeholder') },
    {
      id: 'description',
      name: s.t('field.description'),
      render: ({ value, onChange, fieldCSSClasses, form }, h) =>
        h('textarea', {
          id: inputId('description'),
          class: fieldCSSClasses.text,
          rows: 3,
          form,
          value,
          placeholder: s.t('field.description-placeholder'),
          onInput: (event: Event) => onChange((event.target as HTMLTextAreaElement).value),
        }),
    },
    { id: 'tags', name: s.t('field.tags'), placeholder: s.t('field.tags-placeholder') },
  ];
  if (config.user) {
    fields.push(
      selectField('album_id', s.t('field.album'), [['', s.t('options.no-album')], ...config.user.albums.map((album): [string, string] => [album.id, album.name])]),
      selectField('expiration', s.t('field.expiration'), [['', s.t('options.never')], ...config.expirations.map((choice): [string, string] => [choice.value, expirationLabel(s, choice)])]),
    );
  }
  if (config.categories.length > 0) {
    fields.push(selectField('category_id', s.t('field.category'), [['', s.t('options.no-category')], ...config.categories.map((c): [string, string] => [c.id, c.name])]));
  }
  fields.push({
    id: 'nsfw',
    name: s.t('field.nsfw'),
    render: ({ value, onChange, form }, h) =>
      h('input', {
        id: inputId('nsfw'),
        type: 'checkbox',
        class: 'su-checkbox',
        form,
        checked: value === '1',
        onChange: (event: Event) => onChange((event.target as HTMLInputElement).checked ? '1' : '0'),
      }),
  });
  return fields;
}
